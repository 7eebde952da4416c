/**
 * The progress display on stderr while a run works: one line per phase of each problem
 * (`[3/25 crash-geo-detection] injecting …`), and on a terminal a ticking line during the waits.
 */
export class Progress {
  private ticking: NodeJS.Timeout | null = null;
  private readonly tty: boolean;

  constructor(
    private readonly write: (line: string) => void,
    private readonly total: number,
    tty = process.stderr.isTTY === true,
  ) {
    this.tty = tty;
  }

  private prefix = '';

  problem(index: number, id: string): void {
    this.prefix = `[${index + 1}/${this.total} ${id}]`;
  }

  line(text: string): void {
    this.stopTick();
    this.write(`${this.prefix} ${text}`);
  }

  /** A countdown on a terminal (overwritten in place); nothing when stderr is not a terminal. */
  tick(label: string, untilMs: number, status: () => string = () => ''): void {
    this.stopTick();
    if (!this.tty) return;
    this.ticking = setInterval(() => {
      const left = Math.max(0, Math.ceil((untilMs - Date.now()) / 1000));
      process.stderr.write(`\r\x1b[2K${this.prefix} ${label} ${left}s ${status()}`);
    }, 500);
    this.ticking.unref();
  }

  stopTick(): void {
    if (this.ticking) {
      clearInterval(this.ticking);
      this.ticking = null;
      process.stderr.write('\r\x1b[2K');
    }
  }
}
