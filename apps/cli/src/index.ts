export { runCli, buildProgram, EXIT } from './program.js';
export { GatewayClient, ApiError } from './client.js';
export { watchTask, taskUpdates, failureSummary, type TaskView, type StepView } from './watch.js';
