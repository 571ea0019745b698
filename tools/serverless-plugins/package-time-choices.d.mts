/** Folds a template's constant conditions and implied DependsOn entries in place; returns the conditions decided. */
export function foldPackageTimeChoices(template: Record<string, unknown>): string[];
declare class PackageTimeChoices {
  constructor(serverless: unknown);
  hooks: Record<string, () => void>;
}
export default PackageTimeChoices;
