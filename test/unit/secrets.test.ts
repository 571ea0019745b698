/**
 * Where the deployed functions' secrets come from: plain variables locally, SSM SecureStrings
 * (by parameter name) in the cloud and on LocalStack. The SSM reader runs the real AWS SDK
 * client against a small in-process stand-in for the SSM JSON API on loopback: there is no SSM
 * here, and the stand-in answers exactly as the documented protocol does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionLostError } from '../../lib/core/errors.ts';
import { ConfigError } from '../../lib/runtime/config.ts';
import { classifyParameterError, createSsmParameterReader, resolveSecrets, type ParameterReader } from '../../lib/runtime/secrets.ts';

function recordingReader(values: Record<string, string>): ParameterReader & { reads: string[] } {
  const reads: string[] = [];
  const read = async (name: string) => {
    reads.push(name);
    return values[name];
  };
  return Object.assign(read, { reads });
}

describe('resolveSecrets', () => {
  it('uses the plain variables as given and reads no parameter (the local stage)', async () => {
    const read = recordingReader({});
    const secrets = await resolveSecrets(
      { databaseUrl: 'postgres://local/etl', databaseUrlParam: '/etl/x/database-url', esUrl: 'http://127.0.0.1:9200' },
      read,
    );
    expect(secrets).toEqual({ databaseUrl: 'postgres://local/etl', esUrl: 'http://127.0.0.1:9200', opensearchUrl: undefined, connectionUrls: {} });
    expect(read.reads).toEqual([]);
  });

  it('reads each secret from its named parameter when the plain variable is unset', async () => {
    const read = recordingReader({ '/etl/prod/database-url': 'postgres://from-ssm/etl', '/etl/prod/es-url': 'https://u:p@es.example' });
    const secrets = await resolveSecrets({ databaseUrlParam: '/etl/prod/database-url', esUrlParam: '/etl/prod/es-url' }, read);
    expect(secrets).toEqual({ databaseUrl: 'postgres://from-ssm/etl', esUrl: 'https://u:p@es.example', opensearchUrl: undefined, connectionUrls: {} });
    expect(read.reads.sort()).toEqual(['/etl/prod/database-url', '/etl/prod/es-url']);
  });

  it('reads named connections from their parameters; a plain ETL_CONNECTION_<NAME> wins', async () => {
    const read = recordingReader({ '/etl/prod/connections/warehouse': 'postgres://wh/reports', '/etl/prod/connections/app': 'postgres://ssm/app' });
    const secrets = await resolveSecrets(
      {
        databaseUrl: 'postgres://local/etl',
        connectionUrls: { app: 'postgres://plain/app' },
        connectionParams: { warehouse: '/etl/prod/connections/warehouse', app: '/etl/prod/connections/app' },
      },
      read,
    );
    expect(secrets.connectionUrls).toEqual({ warehouse: 'postgres://wh/reports', app: 'postgres://plain/app' });
    expect(read.reads).toEqual(['/etl/prod/connections/warehouse']);
  });

  it('fails with a ConfigError naming the connection when its parameter does not exist', async () => {
    const settings = { databaseUrl: 'postgres://local/etl', connectionParams: { warehouse: '/etl/prod/connections/warehouse' } };
    await expect(resolveSecrets(settings, recordingReader({}))).rejects.toThrow(ConfigError);
    await expect(resolveSecrets(settings, recordingReader({}))).rejects.toThrow('connection warehouse: the SSM parameter /etl/prod/connections/warehouse does not exist');
  });

  it('fails with a ConfigError naming the parameter when the database URL parameter does not exist', async () => {
    await expect(resolveSecrets({ databaseUrlParam: '/etl/prod/database-url' }, recordingReader({}))).rejects.toThrow(ConfigError);
    await expect(resolveSecrets({ databaseUrlParam: '/etl/prod/database-url' }, recordingReader({}))).rejects.toThrow('/etl/prod/database-url');
  });

  it('treats a missing search engine parameter as that engine not being configured', async () => {
    const read = recordingReader({ '/etl/prod/database-url': 'postgres://from-ssm/etl' });
    const secrets = await resolveSecrets({ databaseUrlParam: '/etl/prod/database-url', esUrlParam: '/etl/prod/es-url', opensearchUrlParam: '/etl/prod/opensearch-url' }, read);
    expect(secrets.esUrl).toBeUndefined();
    expect(secrets.opensearchUrl).toBeUndefined();
  });
});

describe('classifyParameterError', () => {
  it('makes throttling, 5xx and network failures retryable and the rest permanent', () => {
    const status = (httpStatusCode: number, name: string) => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode } });
    expect(classifyParameterError(status(400, 'ThrottlingException'), 'p')).toBeInstanceOf(ConnectionLostError);
    expect(classifyParameterError(status(500, 'InternalServerError'), 'p')).toBeInstanceOf(ConnectionLostError);
    expect(classifyParameterError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'p')).toBeInstanceOf(ConnectionLostError);
    expect(classifyParameterError(status(400, 'AccessDeniedException'), 'p')).toBeInstanceOf(ConfigError);
    expect(classifyParameterError(status(400, 'AccessDeniedException'), '/etl/prod/database-url').message).toContain('/etl/prod/database-url');
  });
});

describe('the SSM parameter reader (AWS SDK against an SSM API stand-in)', () => {
  const parameters: Record<string, string> = { '/etl/test/database-url': 'postgres://etl:pw@db.example:5432/etl' };
  const requests: { target: string | undefined; body: { Name: string; WithDecryption?: boolean } }[] = [];
  let server: Server;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const body = JSON.parse(text) as { Name: string; WithDecryption?: boolean };
        requests.push({ target: request.headers['x-amz-target'] as string | undefined, body });
        const reply = (status: number, payload: unknown) => {
          response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          response.end(JSON.stringify(payload));
        };
        if (body.Name === '/etl/test/forbidden') return reply(400, { __type: 'AccessDeniedException', message: 'not authorized to perform: ssm:GetParameter' });
        const value = parameters[body.Name];
        if (value === undefined) return reply(400, { __type: 'ParameterNotFound', message: '' });
        return reply(200, { Parameter: { Name: body.Name, Type: 'SecureString', Value: value, Version: 1 } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // The same variable LocalStack sets inside its Lambda containers.
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
  });

  afterAll(async () => {
    process.env = saved;
    await new Promise((resolve) => server.close(resolve));
  });

  it('returns the decrypted SecureString, asking for decryption', async () => {
    const read = createSsmParameterReader('us-east-1');
    await expect(read('/etl/test/database-url')).resolves.toBe('postgres://etl:pw@db.example:5432/etl');
    expect(requests.at(-1)).toEqual({ target: 'AmazonSSM.GetParameter', body: { Name: '/etl/test/database-url', WithDecryption: true } });
  });

  it('resolves undefined for a parameter that does not exist', async () => {
    await expect(createSsmParameterReader('us-east-1')('/etl/test/es-url')).resolves.toBeUndefined();
  });

  it('rejects with a permanent ConfigError when access is denied', async () => {
    await expect(createSsmParameterReader('us-east-1')('/etl/test/forbidden')).rejects.toThrow(ConfigError);
  });
});
