// Imported first by main.ts: libuv starts its thread pool on first use and sizes it from
// UV_THREADPOOL_SIZE then, so this must run before anything reads a file asynchronously.
//
// Every asynchronous file operation of the agent (pod state files, /etc files, the IPAM and
// attachment records, their lock files, container records) waits for one of the pool's threads,
// and under a burst of pod starts on a busy disk each of them holds a thread for milliseconds. With
// libuv's default of 4, a 33-pod burst per node queued them behind each other: in bench/pod-startup
// (cold, 100 pods, 3 nodes) a pod's sandbox took p50 ~1.2 s from arrival to containers started, of
// which ~0.9 s was the network set-up waiting on file operations; with 16 threads ~0.25 s.
// An explicit UV_THREADPOOL_SIZE in the environment still wins.
const AGENT_THREADPOOL_SIZE = 16;

if (process.env['UV_THREADPOOL_SIZE'] === undefined || process.env['UV_THREADPOOL_SIZE'] === '') {
  process.env['UV_THREADPOOL_SIZE'] = String(AGENT_THREADPOOL_SIZE);
}
