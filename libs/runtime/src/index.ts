// The node's container engine. Each area (images, snapshots, cgroups, network, containers) sits in its
// own folder behind a small interface; this file names what the rest of Flotilla may use.
export const RUNTIME_NAME = 'flotilla';
