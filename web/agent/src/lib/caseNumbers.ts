/** "#10234, #10235 10236" → [10234, 10235, 10236]; anything that is not a number is reported back. */
export function parseCaseNumbers(text: string): { numbers: number[]; invalid: string[] } {
  const numbers: number[] = [];
  const invalid: string[] = [];
  for (const token of text.split(/[\s,;]+/)) {
    if (!token) continue;
    const match = token.match(/^#?(\d{1,12})$/);
    if (match) {
      const value = Number(match[1]);
      if (value > 0 && !numbers.includes(value)) numbers.push(value);
      else if (value <= 0) invalid.push(token);
    } else {
      invalid.push(token);
    }
  }
  return { numbers, invalid };
}
