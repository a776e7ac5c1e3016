import { validateName } from '@porpoise/storage';

export function validateEventName(name: unknown): asserts name is string {
  validateName(name, 'name');
}
