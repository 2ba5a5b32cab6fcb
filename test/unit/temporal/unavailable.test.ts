import { ServiceError } from '@temporalio/client';
import { isTemporalUnavailable } from '../../../src/temporal/client';

/** A gRPC error as the client's transport raises it. */
const grpcError = (code: number) => Object.assign(new Error(`grpc ${code}`), { code, details: '', metadata: {} });

describe('isTemporalUnavailable', () => {
  test('when a start fails for a passing reason, wrapped as the client wraps it, then it is a 503', () => {
    // Deadline exceeded (4), resource exhausted (8) and unavailable (14), as the storm produced them.
    for (const code of [4, 8, 14]) {
      expect(isTemporalUnavailable(new ServiceError('Failed to start Workflow', { cause: grpcError(code) }))).toBe(
        true,
      );
    }
  });

  test('when Temporal refuses the request itself, then it is not', () => {
    // Invalid argument (3), permission denied (7): trying again would not help.
    for (const code of [3, 7]) {
      expect(isTemporalUnavailable(new ServiceError('Failed to start Workflow', { cause: grpcError(code) }))).toBe(
        false,
      );
    }
    expect(isTemporalUnavailable(new Error('boom'))).toBe(false);
  });
});
