// Docker's decimal sizes (go-units HumanSizeWithPrecision(size, 3)), shared by `image ls`, pull and
// push progress and the BLOCK I/O column of `container stats`: "512B", "4.87MB", "12MB", "1.23GB".
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0
    ? `${value}B`
    : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0).replace(/\.0+$/, '')}${units[unit]}`;
}
