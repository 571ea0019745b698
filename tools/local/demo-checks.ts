/** Prints each demo check as it happens and counts the failures. */
export class DemoChecks {
  private passed = 0;
  private failed = 0;

  scenario(title: string): void {
    console.log(`\n== ${title}`);
  }

  expect(what: string, ok: boolean, detail = ''): void {
    if (ok) this.passed += 1;
    else this.failed += 1;
    console.log(`   ${ok ? 'PASS' : 'FAIL'}  ${what}${detail ? `  (${detail})` : ''}`);
  }

  fail(what: string, detail: string): void {
    this.expect(what, false, detail);
  }

  skip(what: string, why: string): void {
    console.log(`   SKIP  ${what}  (${why})`);
  }

  /** Prints the totals; the process exit code. */
  summary(): number {
    console.log(`\ndemo: ${this.passed} passed, ${this.failed} failed`);
    return this.failed === 0 ? 0 : 1;
  }
}
