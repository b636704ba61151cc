import { compileDefinition, PRESETS, type GenericSettings } from '../../src/providers/generic/definition';
import { createGenericProvider } from '../../src/providers/generic';
import { findProvider } from '../../src/providers/registry';
import type { GenericAccountSettings } from '../../src/providers/generic/signature';
import type { Provider } from '../../src/providers/types';

export const PRESET_NAMES = Object.keys(PRESETS) as (keyof typeof PRESETS)[];

/** A generic provider from settings, as the configuration would build it. */
export function genericProvider(name: string, settings: Omit<GenericSettings, 'kind' | 'accounts'>): Provider<GenericAccountSettings> {
  return createGenericProvider(compileDefinition(name, { kind: 'generic', accounts: {}, ...settings }));
}

/** A built-in provider, or the preset of that name (fixtures/<preset>/ hold its fixtures). */
export function providerOrPreset(name: string): Provider {
  return findProvider(name) ?? genericProvider(name, { preset: name as keyof typeof PRESETS });
}
