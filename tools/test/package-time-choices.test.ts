/**
 * tools/serverless-plugins/package-time-choices.mjs: conditions on constants are decided when
 * packaging (only the branch taken stays), conditions that depend on the deployment are kept,
 * and DependsOn entries that a reference already implies go.
 */
import { describe, expect, it } from 'vitest';
import { foldPackageTimeChoices } from '../serverless-plugins/package-time-choices.mjs';

const kmsStatement = { Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:us-east-1:111122223333:key/k' };
const ec2Statement = { Effect: 'Allow', Action: ['ec2:CreateNetworkInterface'], Resource: '*' };

/** A role as serverless.yml writes it, with the two package-time choices given as values. */
function template(kmsKeyArn: string, vpc: string) {
  return {
    Conditions: {
      InVpc: { 'Fn::Equals': [vpc, 'private'] },
      HasSecretsKmsKey: { 'Fn::Not': [{ 'Fn::Equals': [kmsKeyArn, ''] }] },
      IsProdParameter: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    },
    Resources: {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Policies: [
            {
              PolicyDocument: {
                Statement: [
                  { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:us-east-1:111122223333:parameter/etl/dev/database-url' },
                  { 'Fn::If': ['HasSecretsKmsKey', { ...kmsStatement, Resource: kmsKeyArn }, { Ref: 'AWS::NoValue' }] },
                  { 'Fn::If': ['InVpc', ec2Statement, { Ref: 'AWS::NoValue' }] },
                ],
              },
            },
          ],
        },
      },
      VpcOnly: { Type: 'AWS::EC2::SecurityGroup', Condition: 'InVpc', Properties: {} },
      Fn: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['FnLogGroup', 'Role'],
        Properties: {
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
          VpcConfig: { 'Fn::If': ['InVpc', { SubnetIds: ['subnet-1'] }, { Ref: 'AWS::NoValue' }] },
          MemorySize: { 'Fn::If': ['IsProdParameter', 1769, 1024] },
        },
      },
      Machine: { Type: 'AWS::StepFunctions::StateMachine', DependsOn: 'MachineRole', Properties: { RoleArn: { 'Fn::Sub': '${MachineRole.Arn}' } } },
    },
    Outputs: { VpcOnlyId: { Condition: 'InVpc', Value: { Ref: 'VpcOnly' } } },
  };
}

const statementsOf = (folded: ReturnType<typeof template>) => folded.Resources.Role.Properties.Policies[0]!.PolicyDocument.Statement;

describe('package-time choices', () => {
  it('without a KMS key or VPC keeps neither statement, nor the VPC-only resource, output or property', () => {
    const folded = template('', 'none');
    expect(foldPackageTimeChoices(folded).sort()).toEqual(['HasSecretsKmsKey', 'InVpc']);
    expect(statementsOf(folded)).toEqual([{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:us-east-1:111122223333:parameter/etl/dev/database-url' }]);
    expect(folded.Resources.VpcOnly).toBeUndefined();
    expect(folded.Outputs.VpcOnlyId).toBeUndefined();
    expect(folded.Resources.Fn.Properties).not.toHaveProperty('VpcConfig');
  });

  it('with a KMS key and a VPC keeps both statements, unconditional', () => {
    const folded = template(kmsStatement.Resource, 'private');
    foldPackageTimeChoices(folded);
    expect(statementsOf(folded).slice(1)).toEqual([kmsStatement, ec2Statement]);
    expect(folded.Resources.VpcOnly).toEqual({ Type: 'AWS::EC2::SecurityGroup', Properties: {} });
    expect(folded.Outputs.VpcOnlyId).toEqual({ Value: { Ref: 'VpcOnly' } });
    expect(folded.Resources.Fn.Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-1'] });
  });

  it('keeps a condition that depends on the deployment, and its Fn::If', () => {
    const folded = template('', 'none');
    foldPackageTimeChoices(folded);
    expect(folded.Conditions).toEqual({ IsProdParameter: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } });
    expect(folded.Resources.Fn.Properties.MemorySize).toEqual({ 'Fn::If': ['IsProdParameter', 1769, 1024] });
  });

  it('drops only the DependsOn entries that a Ref, Fn::GetAtt or Fn::Sub already implies', () => {
    const folded = template('', 'none');
    foldPackageTimeChoices(folded);
    expect(folded.Resources.Fn.DependsOn).toEqual(['FnLogGroup']);
    expect(folded.Resources.Machine).not.toHaveProperty('DependsOn');
  });
});
