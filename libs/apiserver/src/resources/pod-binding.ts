// The pods/binding subresource as Kubernetes' BindingREST serves it: the Binding is validated on its
// own (ValidatePodBinding: target kind Node or empty, a node name), and the pod is written in
// storage with spec.nodeName set and PodScheduled=True, past the update strategy. The stored pod
// was validated when it was written and a binding changes nothing else, so the pod is neither
// validated again nor given a new generation (kube-apiserver does neither for a bind).
import { isDns1123Subdomain, kubeTimestamp, type KubeObject, type StatusCause } from '@flotilla/api';
import { apiErrors, type ApiError } from '../http/api-error';

const BINDING_KIND = { group: '', kind: 'Binding' } as const;

interface PodCondition {
  type?: string;
  status?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

type BindablePod = KubeObject & {
  spec?: { nodeName?: string };
  status?: { conditions?: PodCondition[] };
};

/** The node a Binding body names, or a 422 naming what is wrong with it. */
export function bindingTarget(body: unknown, podName: string): string {
  const target = (body as { target?: { kind?: unknown; name?: unknown } } | null)?.target;
  const causes: StatusCause[] = [];
  const kind = target?.kind;
  if (kind !== undefined && kind !== '' && kind !== 'Node') {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(kind)}: supported values: "Node", ""`,
      field: 'target.kind',
    });
  }
  const name = target?.name;
  if (typeof name !== 'string' || name === '') {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' });
  } else {
    for (const problem of isDns1123Subdomain(name)) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(name)}: ${problem}`,
        field: 'target.name',
      });
    }
  }
  if (causes.length > 0) throw apiErrors.invalid(BINDING_KIND, podName, causes);
  return name as string;
}

/**
 * The pod bound to `nodeName`, or the 409 a scheduler must see when it lost the race: the pod is
 * already bound (two schedulers never place one pod twice) or is being deleted.
 */
export function boundPod(options: {
  live: KubeObject;
  nodeName: string;
  now: Date;
  conflict: (why: string) => ApiError;
}): KubeObject {
  const live = options.live as BindablePod;
  const assigned = live.spec?.nodeName;
  if (assigned)
    throw options.conflict(`pod ${live.metadata?.name ?? ''} is already assigned to node "${assigned}"`);
  if (live.metadata?.deletionTimestamp) throw options.conflict('the pod is being deleted');
  const conditions = live.status?.conditions ?? [];
  const scheduled = conditions.find((condition) => condition.type === 'PodScheduled');
  // As podutil.UpdatePodCondition: the transition time moves only when the status does.
  const condition: PodCondition =
    scheduled?.status === 'True'
      ? scheduled
      : {
          type: 'PodScheduled',
          status: 'True',
          lastProbeTime: null,
          lastTransitionTime: kubeTimestamp(options.now),
        };
  const nextConditions = scheduled
    ? conditions.map((entry) => (entry === scheduled ? condition : entry))
    : [...conditions, condition];
  return {
    ...live,
    spec: { ...live.spec, nodeName: options.nodeName },
    status: { ...live.status, conditions: nextConditions },
  } as KubeObject;
}
