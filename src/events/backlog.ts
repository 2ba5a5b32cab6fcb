/**
 * How far behind the workers are: the workflow-task backlog of the delivery task queue, as
 * Temporal reports it, read at most once a second. Past MAX_EVENT_BACKLOG the API refuses new
 * events (503 with Retry-After) instead of accepting work it would deliver minutes late: a storm
 * then costs producers a retry, and latency is back to normal soon after it ends.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { temporalErrors } from '../metrics/registry';

const REFRESH_MS = 1000;

export interface BacklogGauge {
  /** The last reading (0 until the first one, and when Temporal cannot say). */
  current(): number;
  stop(): void;
}

export function watchBacklog(client: Client, namespace: string, taskQueue: string): BacklogGauge {
  let backlog = 0;
  let reading = false;
  const read = async () => {
    if (reading) return;
    reading = true;
    try {
      const res = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        reportStats: true,
      });
      backlog = Number(res.stats?.approximateBacklogCount ?? 0);
    } catch {
      temporalErrors.inc({ operation: 'backlog' });
      // Unknown: do not refuse events on a gauge that cannot be read (the start itself will tell).
      backlog = 0;
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(() => void read(), REFRESH_MS);
  timer.unref();
  void read();
  return { current: () => backlog, stop: () => clearInterval(timer) };
}
