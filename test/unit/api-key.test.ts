import { describe, expect, it } from 'vitest';
import { sameSecret } from '../../lib/runtime/http.ts';

describe('the API key comparison', () => {
  it('accepts the same key and refuses any other, whatever its length', () => {
    expect(sameSecret('s3cret-key', 's3cret-key')).toBe(true);
    expect(sameSecret('s3cret-kez', 's3cret-key')).toBe(false);
    expect(sameSecret('s3cret', 's3cret-key')).toBe(false);
    expect(sameSecret('s3cret-key-and-more', 's3cret-key')).toBe(false);
    expect(sameSecret('', 's3cret-key')).toBe(false);
  });
});
