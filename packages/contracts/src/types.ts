export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type TaskStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
export type StepStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

/** A page of a list endpoint: `data: {items, next_cursor}`. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
