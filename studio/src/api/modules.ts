// The module documents of cot.modules, cot.installed_modules and the module
// functions' answers (docs/modules.md).
import type { BundlePlan } from './types';

/** A published module version (cot.modules). */
export interface CatalogModule {
  name: string;
  version: string;
  description: string;
  depends: Record<string, string>;
  entities: string[];
  sample_rows: number;
  published_at: string;
  published_by: string;
}

/** A module installed in the tenant (cot.installed_modules). */
export interface InstalledModule {
  name: string;
  version: string;
  description: string;
  depends: Record<string, string>;
  entities: string[];
  installed_at: string;
  updated_at: string;
}

/** cot.install_module with dry_run: the modules in order, and each entity's plan. */
export interface InstallPlan extends Omit<BundlePlan, 'refused'> {
  install: { module: string; version: string; entities: string[] }[];
  refused?: BundlePlan['refused'];
}

/** cot.plan_module_upgrade: apply_schema's dry run, plus the versions. */
export interface UpgradePlan extends BundlePlan {
  module: string;
  from: string;
  to: string;
  install: { module: string; version: string }[];
}

/** cot.uninstall_module with dry_run. */
export interface UninstallPlan {
  module: string;
  version: string;
  entities: { entity: string; rows: number }[];
  rows: number;
}
