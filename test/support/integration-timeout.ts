// Real clusters, containers and networks take seconds, not milliseconds, to come and go; jest only
// accepts testTimeout globally, so the integration project sets its own here.
jest.setTimeout(60_000);
