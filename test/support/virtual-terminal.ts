/**
 * A small terminal screen for tests of in-place redraws: it plays what a program wrote to a
 * pseudo-terminal (text, CR/LF, and the CSI sequences log-update uses: cursor up/down/column 1,
 * erase line, erase to end of line; colours ignored) and keeps what is on screen. log-update wraps
 * every redraw in a synchronized update (`ESC[?2026h` … `ESC[?2026l`), so the screen at the end of
 * each is one frame as the operator saw it, whether it was drawn whole or patched line by line.
 * Unknown sequences fail loudly: a test must not pass on escapes this screen does not understand.
 */
const ESC = String.fromCharCode(27);
const CSI = new RegExp(`^${ESC}\\[([?\\d;]*)([A-Za-z])`);

export class VirtualTerminal {
  private readonly rows: string[][] = [[]];
  private row = 0;
  private column = 0;
  /** The screen at the end of each synchronized update, in order. */
  readonly frames: string[] = [];
  cursorVisible = true;
  /** Cursor visibility changes, in order (`hide`, `show`). */
  readonly cursorChanges: ('hide' | 'show')[] = [];

  write(output: string): void {
    const chars = [...output];
    for (let i = 0; i < chars.length; i++) {
      const char = chars[i]!;
      if (char === ESC) {
        const match = CSI.exec(chars.slice(i, i + 16).join(''));
        if (!match) throw new Error(`unknown escape at ${JSON.stringify(chars.slice(i, i + 10).join(''))}`);
        this.control(match[1]!, match[2]!);
        i += [...match[0]].length - 1;
      } else if (char === '\r') {
        this.column = 0;
      } else if (char === '\n') {
        this.moveTo(this.row + 1);
        this.column = 0;
      } else {
        const line = this.rows[this.row]!;
        while (line.length < this.column) line.push(' ');
        line[this.column++] = char;
      }
    }
  }

  /** What is on screen: lines without trailing blanks, no trailing empty lines. */
  screen(): string {
    const lines = this.rows.map((line) => line.join('').trimEnd());
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines.join('\n');
  }

  /** How many lines the output has used: a redraw in place keeps this at one frame's height. */
  get height(): number {
    return this.screen().split('\n').length;
  }

  private control(params: string, command: string): void {
    const count = params === '' ? 1 : Number(params);
    if (params === '?2026' && command === 'h') return;
    if (params === '?2026' && command === 'l') {
      this.frames.push(this.screen());
      return;
    }
    if (params === '?25' && (command === 'l' || command === 'h')) {
      this.cursorVisible = command === 'h';
      this.cursorChanges.push(this.cursorVisible ? 'show' : 'hide');
      return;
    }
    switch (command) {
      case 'm':
        return; // colours
      case 'A':
        return this.moveTo(Math.max(0, this.row - count));
      case 'B':
        return this.moveTo(this.row + count);
      case 'G':
        this.column = count - 1;
        return;
      case 'K':
        if (params === '2') this.rows[this.row] = [];
        else if (params === '') this.rows[this.row] = this.rows[this.row]!.slice(0, this.column);
        else throw new Error(`unknown erase ESC[${params}K`);
        return;
      default:
        throw new Error(`unknown sequence ESC[${params}${command}`);
    }
  }

  private moveTo(row: number): void {
    while (this.rows.length <= row) this.rows.push([]);
    this.row = row;
  }
}

/** Every escape sequence removed: the text of a frame as plain text. */
export function stripEscapes(text: string): string {
  return text.replace(new RegExp(`${ESC}\\[[?\\d;]*[A-Za-z]`, 'g'), '');
}
