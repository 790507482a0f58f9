// The POD argument of `logs` and `exec`: a pod name, or pod/NAME as kubectl also takes. Other kinds
// (deploy/NAME) pick one of their pods, which comes with workload support; until then say so.
import { CliError, EXIT_USAGE } from '../../cli-context';

/** Worked example: "web-0" → "web-0", "pod/web-0" → "web-0", "pods/web-0" → "web-0". */
export function podNameOf(argument: string): string {
  const slash = argument.indexOf('/');
  if (slash < 0) return argument;
  const kind = argument.slice(0, slash).toLowerCase();
  const name = argument.slice(slash + 1);
  if (!['pod', 'pods', 'po'].includes(kind)) {
    throw new CliError(
      `only pods can be named here, not ${kind}: give a pod name (flotilla get pods lists them)`,
      EXIT_USAGE,
    );
  }
  if (name === '') throw new CliError(`"${argument}" names no pod: use pod/NAME or just NAME`, EXIT_USAGE);
  return name;
}
