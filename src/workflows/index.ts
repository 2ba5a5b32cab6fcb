// Every workflow the worker runs; the worker's `workflowsPath` points here.
export { eventDeliveryWorkflow } from './eventDelivery';
export { manualFireWorkflow } from './manualFire';
export { webhookDeliveryWorkflow } from './deliverWebhook';
export { recoverWorkflow, redeliveryWorkflow } from './redelivery';
