/**
 * A local serverless plugin: the packaged CloudFormation template carries only decisions that
 * are left to deploy time.
 *
 * serverless.yml chooses some parts of the stack from serverless params (a customer managed KMS
 * key for the SSM SecureStrings, VPC networking). Written as CloudFormation conditions on those
 * params, they end up as conditions on constants (`Fn::Equals: ['none', 'private']`): cfn-lint
 * flags them (W8003) and lints the branch that can never apply (E3510 on an empty KMS key ARN).
 * This plugin evaluates such constant conditions when packaging and keeps only the branch taken:
 * `Fn::If` on a constant condition becomes that branch (an `AWS::NoValue` branch drops the
 * element or property), a resource or output under a false constant condition is removed, and the
 * folded conditions go. Conditions that depend on the deployment (Ref, parameters) are kept.
 *
 * It also drops `DependsOn` entries that a Ref, Fn::GetAtt or Fn::Sub of the same resource
 * already implies (serverless adds them for custom roles; cfn-lint W3005): CloudFormation orders
 * those resources the same way without them.
 */

const NO_VALUE = Symbol('AWS::NoValue');
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const onlyKey = (value) => (isObject(value) && Object.keys(value).length === 1 ? Object.keys(value)[0] : undefined);

/** The value of a condition built from constants only, or undefined when it depends on the deployment. */
function evaluate(expression, conditions, seen = new Set()) {
  const key = onlyKey(expression);
  if (key === 'Condition') {
    const name = expression.Condition;
    if (typeof name !== 'string' || seen.has(name) || !(name in conditions)) return undefined;
    return evaluate(conditions[name], conditions, new Set([...seen, name]));
  }
  const args = key ? expression[key] : undefined;
  if (!Array.isArray(args)) return undefined;
  const values = key === 'Fn::Equals' ? args.map(literal) : args.map((arg) => evaluate(arg, conditions, seen));
  if (values.some((value) => value === undefined)) return undefined;
  switch (key) {
    case 'Fn::Equals':
      return values.length === 2 ? values[0] === values[1] : undefined;
    case 'Fn::Not':
      return values.length === 1 ? !values[0] : undefined;
    case 'Fn::And':
      return values.every(Boolean);
    case 'Fn::Or':
      return values.some(Boolean);
    default:
      return undefined;
  }
}

/** A string or number written in the template (CloudFormation compares them as strings). */
const literal = (value) => (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined);

/** Replaces every Fn::If on a constant condition by its branch; NO_VALUE marks a dropped value. */
function fold(value, constants) {
  if (Array.isArray(value)) return value.map((item) => fold(item, constants)).filter((item) => item !== NO_VALUE);
  if (!isObject(value)) return value;
  if (onlyKey(value) === 'Ref' && value.Ref === 'AWS::NoValue') return NO_VALUE;
  const conditional = onlyKey(value) === 'Fn::If' ? value['Fn::If'] : undefined;
  if (Array.isArray(conditional) && conditional.length === 3 && constants.has(conditional[0])) {
    return fold(constants.get(conditional[0]) ? conditional[1] : conditional[2], constants);
  }
  const folded = {};
  for (const [key, item] of Object.entries(value)) {
    const result = fold(item, constants);
    if (result !== NO_VALUE) folded[key] = result;
  }
  return folded;
}

/** Logical ids a value refers to through Ref, Fn::GetAtt or Fn::Sub. */
function references(value, found = new Set()) {
  if (Array.isArray(value)) {
    for (const item of value) references(item, found);
  } else if (isObject(value)) {
    const key = onlyKey(value);
    if (key === 'Ref' && typeof value.Ref === 'string') found.add(value.Ref);
    if (key === 'Fn::GetAtt') {
      const target = value['Fn::GetAtt'];
      found.add(Array.isArray(target) ? target[0] : String(target).split('.')[0]);
    }
    if (key === 'Fn::Sub') {
      const [text, variables = {}] = Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'] : [value['Fn::Sub']];
      for (const [, name] of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        if (!(name.split('.')[0] in variables)) found.add(name.split('.')[0]);
      }
    }
    for (const item of Object.values(value)) references(item, found);
  }
  return found;
}

/**
 * Folds the constant conditions of a template and prunes implied DependsOn entries, in place.
 * Returns the names of the conditions it decided.
 */
export function foldPackageTimeChoices(template) {
  const conditions = template.Conditions ?? {};
  const constants = new Map();
  for (const name of Object.keys(conditions)) {
    const value = evaluate({ Condition: name }, conditions);
    if (value !== undefined) constants.set(name, value);
  }
  for (const section of ['Resources', 'Outputs']) {
    const entries = template[section] ?? {};
    for (const [id, entry] of Object.entries(entries)) {
      if (constants.has(entry.Condition)) {
        if (!constants.get(entry.Condition)) {
          delete entries[id];
          continue;
        }
        delete entry.Condition;
      }
      entries[id] = fold(entry, constants);
    }
  }
  for (const name of constants.keys()) delete conditions[name];
  if (template.Conditions && Object.keys(template.Conditions).length === 0) delete template.Conditions;

  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.DependsOn === undefined) continue;
    const implied = references([resource.Properties, resource.Metadata]);
    const dependsOn = [resource.DependsOn].flat().filter((id) => !implied.has(id));
    if (dependsOn.length === 0) delete resource.DependsOn;
    else resource.DependsOn = dependsOn;
  }
  return [...constants.keys()];
}

export default class PackageTimeChoices {
  constructor(serverless) {
    this.hooks = {
      // After serverless has merged serverless.yml's `resources` into the compiled template,
      // before it writes cloudformation-template-update-stack.json.
      'before:aws:package:finalize:saveServiceState': () => {
        foldPackageTimeChoices(serverless.service.provider.compiledCloudFormationTemplate);
      },
    };
  }
}
