import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResidentShimLauncher } from './shim-launcher';

// A stand-in for `flotilla-shim launcher` speaking its protocol: `run ID DIR` in, `ID line`s out.
// The directory's name says how the "start" goes; a net request succeeds for one exact line only.
const FAKE_LAUNCHER = `#!/bin/sh
[ "$1" = launcher ] || exit 2
while read -r verb id dir; do
  if [ "$verb" = net ]; then
    case "$dir" in
      "eth0 10.1.0.2/24 10.1.0.1 /run/netns/ok") printf '%s ok\\n%s end\\n' "$id" "$id" ;;
      *) printf '%s error bringing up lo: Operation not permitted\\n%s end\\n' "$id" "$id" ;;
    esac
    continue
  fi
  case "$dir" in
    */ok) printf '%s created 42\\n%s started\\n%s end\\n' "$id" "$id" "$id" ;;
    */fail) printf '%s error executable file not found: /no/such\\n%s end\\n' "$id" "$id" ;;
    */silent) printf '%s end\\n' "$id" ;;
    */die) exit 3 ;;
  esac
done
`;

describe('ResidentShimLauncher', () => {
  let dir: string;
  let launcher: ResidentShimLauncher;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-launcher-spec-'));
    const path = join(dir, 'fake-shim');
    writeFileSync(path, FAKE_LAUNCHER);
    chmodSync(path, 0o755);
    launcher = new ResidentShimLauncher(path);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('relays created and started for each start, several through one launcher', async () => {
    const first = launcher.launch('/state/containers/a/ok');
    const second = launcher.launch('/state/containers/b/ok');
    expect(await first.created).toBe(42);
    await expect(first.started).resolves.toBeUndefined();
    await expect(second.started).resolves.toBeUndefined();
  });

  it("rejects with the shim's reason, or says it ended without one", async () => {
    await expect(launcher.launch('/x/fail').started).rejects.toThrow('executable file not found: /no/such');
    await expect(launcher.launch('/x/silent').started).rejects.toThrow(
      'the shim ended before the container started: no reason given; see shim.log',
    );
  });

  it('fails the starts in flight when the launcher dies, and spawns a new one for the next', async () => {
    const dying = launcher.launch('/x/die');
    await expect(dying.started).rejects.toThrow('the shim launcher ended (exit 3)');
    await expect(dying.created).rejects.toThrow('the shim launcher ended');
    await expect(launcher.launch('/x/ok').started).resolves.toBeUndefined();
  });

  describe('configureInterface', () => {
    const setup = {
      namespacePath: '/run/netns/ok',
      device: 'eth0',
      address: '10.1.0.2',
      prefixLength: 24,
      gateway: '10.1.0.1',
    };

    it('sends one net request with the device, address/prefix, gateway and path, and resolves on ok', async () => {
      await expect(launcher.configureInterface(setup)).resolves.toBeUndefined();
    });

    it("rejects with the launcher's step and reason", async () => {
      await expect(
        launcher.configureInterface({ ...setup, namespacePath: '/run/netns/other' }),
      ).rejects.toThrow(
        'configuring eth0 in /run/netns/other failed: bringing up lo: Operation not permitted',
      );
    });

    it('gives up on a launcher that never answers, saying how to rebuild it', async () => {
      const silent = join(dir, 'old-shim');
      writeFileSync(silent, '#!/bin/sh\n[ "$1" = launcher ] || exit 2\nexec cat > /dev/null\n');
      chmodSync(silent, 0o755);
      const old = new ResidentShimLauncher(silent, { netAnswerMs: 50 });
      await expect(old.configureInterface(setup)).rejects.toThrow(
        /configuring eth0 in \/run\/netns\/ok failed: the shim launcher .* did not answer within 0.05 s; .*make -C native\/shim/,
      );
    });

    it('refuses words the one-line request cannot carry, without asking the launcher', async () => {
      await expect(launcher.configureInterface({ ...setup, device: 'eth 0' })).rejects.toThrow(
        'takes no blanks in the device',
      );
      await expect(
        launcher.configureInterface({ ...setup, namespacePath: '/run/netns/a\nrun 9 /x' }),
      ).rejects.toThrow('no newline in the path');
    });
  });
});
