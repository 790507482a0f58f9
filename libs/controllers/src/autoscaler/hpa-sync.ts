// One pass over one HorizontalPodAutoscaler, in the order of Kubernetes' reconcileAutoscaler: read the
// target's scale subresource, compute a recommendation per metric from the pods and their PodMetrics,
// take the largest, apply behavior (stabilization, rate policies, min/max), write the new size through
// the scale subresource (so the HPA, not the manifest, owns spec.replicas), then the status. Every
// decision is an Event naming the metric, its value, the target and the result.
import {
  Quantity,
  RESOURCE_TYPES,
  parseGoDurationMs,
  parseLabelSelector,
  tryParseQuantity,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerStatus,
  type KubeObject,
  type MetricSpec,
  type ResourceType,
} from '@flotilla/api';
import type { EventRecorder, Informer, RestClient } from '@flotilla/client';
import { isConflict } from '@flotilla/client';
import { canonicalJson } from '../deployment/revision.util';
import type { DeploymentObject, PodObject } from '../replicaset/kube-objects';
import { thaw } from '../replicaset/kube-objects';
import { readyCondition } from '../replicaset/pod-state.util';
import {
  DEFAULT_SCALE_DOWN,
  DEFAULT_SCALE_UP,
  initialRecommendations,
  normalizeWithBehavior,
  recordScaleEvent,
  scalingRulesOf,
  type BehaviorHistory,
} from './behavior.util';
import {
  averageValueSummary,
  metricNameOf,
  rescaleReason,
  setCondition,
  utilizationSummary,
  type ConditionUpdate,
  type ObservedMetric,
} from './hpa-status.util';
import type { PodMetricsItem, PodMetricsSource } from './pod-metrics.source';
import {
  combineRecommendations,
  resourceReplicas,
  type MetricRecommendation,
  type PodSample,
  type ResourceTarget,
} from './replica-calculator.util';
import { isRolloutInProgress } from './rollout-guard.util';

export const COMPONENT = 'horizontal-pod-autoscaler';

type MetricStatus = NonNullable<HorizontalPodAutoscalerStatus['currentMetrics']>[number];

export type HpaObject = HorizontalPodAutoscaler & KubeObject;

export interface HpaTuning {
  readonly tolerance: number;
  readonly cpuInitializationPeriodMs: number;
  readonly initialReadinessDelayMs: number;
}

export interface HpaSyncContext {
  readonly client: RestClient;
  readonly events: EventRecorder;
  readonly podMetrics: PodMetricsSource;
  readonly pods: Informer<PodObject>;
  readonly deployments: Informer<DeploymentObject>;
  readonly hpaType: ResourceType;
  readonly tuning: HpaTuning;
  readonly now: () => Date;
  /** What this controller remembers per HPA between passes (recommendations, scale events). */
  readonly memory: Map<string, BehaviorHistory>;
}

interface Scale {
  readonly metadata: { readonly name?: string; readonly resourceVersion?: string };
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly replicas?: number; readonly selector?: string };
}

function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The resource type a scaleTargetRef names, if it has a scale subresource. */
export function scalableTypeOf(ref: { kind: string; apiVersion?: string }): ResourceType | undefined {
  const group = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return RESOURCE_TYPES.find(
    (type) =>
      type.kind === ref.kind &&
      type.subresources.includes('scale') &&
      (ref.apiVersion === undefined || type.group === group),
  );
}

function milliOf(value: string | number | undefined): number | undefined {
  const quantity = tryParseQuantity(typeof value === 'number' ? String(value) : value);
  return quantity === undefined ? undefined : Number(quantity.milliValue());
}

function podSample(pod: PodObject, resource: string, metrics: PodMetricsItem | undefined): PodSample {
  let requestMilli: number | undefined = 0;
  for (const container of pod.spec.containers) {
    const request = milliOf(container.resources?.requests?.[resource]);
    requestMilli = request === undefined || requestMilli === undefined ? undefined : requestMilli + request;
  }
  const ready = readyCondition(pod);
  const start = Date.parse(pod.status?.startTime ?? '');
  let usage: PodSample['usage'];
  if (metrics) {
    let milli = 0;
    for (const container of metrics.containers) milli += milliOf(container.usage[resource]) ?? 0;
    const timestampMs = Date.parse(metrics.timestamp);
    usage = {
      milli,
      timestampMs: Number.isFinite(timestampMs) ? timestampMs : 0,
      windowMs: parseGoDurationMs(metrics.window) ?? 0,
    };
  }
  return {
    name: pod.metadata.name ?? '',
    ...(pod.status?.phase !== undefined ? { phase: pod.status.phase } : {}),
    deleting: pod.metadata.deletionTimestamp !== undefined,
    ...(ready
      ? { ready: { status: ready.status, lastTransitionMs: Date.parse(ready.lastTransitionTime ?? '') || 0 } }
      : {}),
    ...(Number.isFinite(start) ? { startTimeMs: start } : {}),
    ...(requestMilli !== undefined ? { requestMilli } : {}),
    ...(usage ? { usage } : {}),
  };
}

interface MetricsOutcome {
  readonly recommendations: MetricRecommendation[];
  readonly currentMetrics: MetricStatus[];
  readonly observed: ObservedMetric[];
}

function formatMilli(milli: number): string {
  return Quantity.fromMilli(BigInt(Math.round(milli))).toString();
}

async function computeMetrics(
  context: HpaSyncContext,
  hpa: HpaObject,
  scale: Scale,
  currentReplicas: number,
): Promise<MetricsOutcome> {
  const outcome: MetricsOutcome = { recommendations: [], currentMetrics: [], observed: [] };
  const specs: readonly MetricSpec[] = hpa.spec.metrics ?? [];
  const fail = (metric: MetricSpec, reason: string, message: string): void => {
    outcome.recommendations.push({ metricName: metricNameOf(metric), error: { reason, message } });
  };
  const namespace = hpa.metadata.namespace ?? 'default';
  const selectorText = scale.status?.selector ?? '';
  let selector: ReturnType<typeof parseLabelSelector> | undefined;
  try {
    selector = selectorText === '' ? undefined : parseLabelSelector(selectorText);
  } catch {
    selector = undefined;
  }
  if (!selector) {
    for (const metric of specs) {
      fail(metric, 'InvalidSelector', `the target's scale has no usable selector ("${selectorText}")`);
    }
    return outcome;
  }
  const matcher = selector;
  const pods = context.pods
    .list()
    .filter((pod) => pod.metadata.namespace === namespace && matcher.matches(pod.metadata.labels));
  const ref = hpa.spec.scaleTargetRef;
  const deployment =
    ref.kind === 'Deployment' ? context.deployments.get(`${namespace}/${ref.name}`) : undefined;
  const rollout =
    deployment !== undefined &&
    isRolloutInProgress({
      specReplicas: deployment.spec.replicas ?? 1,
      generation: deployment.metadata.generation,
      observedGeneration: deployment.status?.observedGeneration,
      statusReplicas: deployment.status?.replicas,
      updatedReplicas: deployment.status?.updatedReplicas,
    });
  let items: readonly PodMetricsItem[] = [];
  let metricsError: string | undefined;
  try {
    items = await context.podMetrics.list(namespace, selectorText);
  } catch (error) {
    metricsError = errorText(error);
  }
  const byName = new Map(items.map((item) => [item.metadata.name ?? '', item]));
  const nowMs = context.now().getTime();
  for (const metric of specs) {
    const source = metric.resource;
    if (metric.type !== 'Resource' || !source) {
      fail(
        metric,
        'InvalidMetricSourceType',
        `${metric.type} metrics are not supported yet: use a Resource metric (cpu or memory)`,
      );
      continue;
    }
    const resource = source.name;
    if (metricsError !== undefined) {
      fail(
        metric,
        'FailedGetResourceMetric',
        `failed to get ${resource} utilization: unable to get metrics for resource ${resource}: ${metricsError}`,
      );
      continue;
    }
    let target: ResourceTarget;
    if (source.target.type === 'Utilization' && source.target.averageUtilization !== undefined) {
      target = { type: 'Utilization', averageUtilization: source.target.averageUtilization };
    } else {
      const averageValueMilli = milliOf(source.target.averageValue);
      if (
        source.target.type !== 'AverageValue' ||
        averageValueMilli === undefined ||
        averageValueMilli <= 0
      ) {
        fail(
          metric,
          'InvalidMetricSourceType',
          `a ${resource} target needs type Utilization with averageUtilization or AverageValue with averageValue`,
        );
        continue;
      }
      target = { type: 'AverageValue', averageValueMilli };
    }
    const result = resourceReplicas({
      resource,
      currentReplicas,
      pods: pods.map((pod) => podSample(pod, resource, byName.get(pod.metadata.name ?? ''))),
      target,
      nowMs,
      tolerance: context.tuning.tolerance,
      cpuInitializationPeriodMs: context.tuning.cpuInitializationPeriodMs,
      initialReadinessDelayMs: context.tuning.initialReadinessDelayMs,
      rollout,
    });
    if (!result.ok) {
      fail(metric, 'FailedGetResourceMetric', `failed to get ${resource} utilization: ${result.message}`);
      continue;
    }
    const averageValue = formatMilli(result.averageMilli);
    outcome.currentMetrics.push({
      type: 'Resource',
      resource: {
        name: resource,
        current: {
          averageValue,
          ...(result.utilization !== undefined ? { averageUtilization: result.utilization } : {}),
        },
      },
    });
    const metricName = metricNameOf(metric);
    outcome.observed.push({
      metricName,
      summary:
        target.type === 'Utilization'
          ? utilizationSummary(resource, result.utilization ?? 0, target.averageUtilization)
          : averageValueSummary(resource, averageValue, formatMilli(target.averageValueMilli)),
    });
    outcome.recommendations.push({ metricName, replicas: result.replicas });
  }
  return outcome;
}

/** Reconciles one HPA; throws only to be retried (a conflicting write). */
export async function syncHpa(context: HpaSyncContext, key: string, hpa: HpaObject): Promise<void> {
  const now = context.now();
  const nowIso = kubeTime(now);
  const nowMs = now.getTime();
  const status = hpa.status;
  let conditions = [...(status?.conditions ?? [])];
  const set = (update: ConditionUpdate): void => {
    conditions = setCondition(conditions, update, nowIso);
  };
  const warn = (reason: string, message: string): void => {
    void context.events.record(hpa, 'Warning', reason, message);
  };
  const writeStatus = async (next: Omit<HorizontalPodAutoscalerStatus, 'conditions'>): Promise<void> => {
    const updated: HorizontalPodAutoscalerStatus = {
      ...next,
      ...(hpa.metadata.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {}),
      conditions,
    };
    if (canonicalJson(status ?? {}) === canonicalJson(updated)) return;
    await context.client.updateStatus(
      context.hpaType,
      { ...thaw(hpa), status: updated },
      { namespace: hpa.metadata.namespace, fieldManager: COMPONENT },
    );
  };
  const unchangedStatus = (): Omit<HorizontalPodAutoscalerStatus, 'conditions'> => ({
    ...(status?.currentReplicas !== undefined ? { currentReplicas: status.currentReplicas } : {}),
    desiredReplicas: status?.desiredReplicas ?? 0,
    ...(status?.currentMetrics ? { currentMetrics: status.currentMetrics } : {}),
    ...(status?.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : {}),
  });

  const ref = hpa.spec.scaleTargetRef;
  const namespace = hpa.metadata.namespace ?? 'default';
  const targetType = scalableTypeOf(ref);
  if (!targetType) {
    const message = `the HPA controller was unable to get the target's current scale: ${ref.apiVersion ?? ''} ${ref.kind} has no scale subresource; point scaleTargetRef at a Deployment or ReplicaSet`;
    set({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message });
    warn('FailedGetScale', message);
    return writeStatus(unchangedStatus());
  }
  const scalePath = context.client.objectPath(targetType, ref.name, { namespace, subresource: 'scale' });
  let scale: Scale;
  try {
    scale = await context.client.request<Scale>({ method: 'GET', path: scalePath });
  } catch (error) {
    const message = `the HPA controller was unable to get the target's current scale: ${errorText(error)}`;
    set({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message });
    warn('FailedGetScale', message);
    return writeStatus(unchangedStatus());
  }
  set({
    type: 'AbleToScale',
    status: 'True',
    reason: 'SucceededGetScale',
    message: "the HPA controller was able to get the target's current scale",
  });

  const currentReplicas = scale.spec?.replicas ?? 0;
  const minReplicas = hpa.spec.minReplicas ?? 1;
  const maxReplicas = hpa.spec.maxReplicas;
  const history = context.memory.get(key) ?? {
    recommendations: initialRecommendations(currentReplicas, nowMs),
    scaleUpEvents: [],
    scaleDownEvents: [],
  };
  context.memory.set(key, history);
  const scaleUp = scalingRulesOf(hpa.spec.behavior?.scaleUp, DEFAULT_SCALE_UP);
  const scaleDown = scalingRulesOf(hpa.spec.behavior?.scaleDown, DEFAULT_SCALE_DOWN);
  let desiredReplicas = currentReplicas;
  let reason = '';
  let currentMetrics = status?.currentMetrics;

  if (currentReplicas === 0 && minReplicas !== 0) {
    desiredReplicas = 0;
    set({
      type: 'ScalingActive',
      status: 'False',
      reason: 'ScalingDisabled',
      message: 'scaling is disabled since the replica count of the target is zero',
    });
  } else if (currentReplicas > maxReplicas) {
    desiredReplicas = maxReplicas;
    reason = `Current number of replicas above Spec.MaxReplicas (${currentReplicas} > ${maxReplicas})`;
  } else if (currentReplicas < minReplicas) {
    desiredReplicas = minReplicas;
    reason = `Current number of replicas below Spec.MinReplicas (${currentReplicas} < ${minReplicas})`;
  } else {
    const outcome = await computeMetrics(context, hpa, scale, currentReplicas);
    currentMetrics = outcome.currentMetrics.length > 0 ? outcome.currentMetrics : undefined;
    const combined = combineRecommendations(outcome.recommendations, currentReplicas);
    if (!combined.ok) {
      const invalid = outcome.recommendations.filter((recommendation) => recommendation.error).length;
      set({
        type: 'ScalingActive',
        status: 'False',
        reason: combined.reason,
        message: `the HPA was unable to compute the replica count: ${combined.message}`,
      });
      warn(combined.reason, combined.message);
      warn(
        'FailedComputeMetricsReplicas',
        `invalid metrics (${invalid} invalid out of ${outcome.recommendations.length}), first error is: ${combined.message}`,
      );
      return writeStatus({
        currentReplicas,
        desiredReplicas: status?.desiredReplicas ?? currentReplicas,
        ...(currentMetrics ? { currentMetrics } : {}),
        ...(status?.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : {}),
      });
    }
    set({
      type: 'ScalingActive',
      status: 'True',
      reason: 'ValidMetricFound',
      message: `the HPA was able to successfully calculate a replica count from ${combined.metricName}`,
    });
    const normalized = normalizeWithBehavior({
      currentReplicas,
      recommended: combined.replicas,
      minReplicas,
      maxReplicas,
      scaleUp,
      scaleDown,
      history,
      nowMs,
    });
    context.memory.set(key, { ...history, recommendations: normalized.recommendations });
    set({ type: 'AbleToScale', status: 'True', ...normalized.ableToScale });
    set({
      type: 'ScalingLimited',
      status: normalized.scalingLimited.limited ? 'True' : 'False',
      reason: normalized.scalingLimited.reason,
      message: normalized.scalingLimited.message,
    });
    desiredReplicas = normalized.desiredReplicas;
    reason = rescaleReason({
      currentReplicas,
      desiredReplicas,
      leadingMetric: outcome.observed.find((metric) => metric.metricName === combined.metricName),
      observed: outcome.observed,
    });
  }

  let lastScaleTime = status?.lastScaleTime;
  if (desiredReplicas !== currentReplicas) {
    try {
      // The version read makes this conditional: a scale changed meanwhile is a conflict, retried
      // from a fresh read instead of overwritten.
      await context.client.request({
        method: 'PUT',
        path: scalePath,
        query: { fieldManager: COMPONENT },
        body: {
          apiVersion: 'autoscaling/v1',
          kind: 'Scale',
          metadata: { name: ref.name, namespace, resourceVersion: scale.metadata.resourceVersion },
          spec: { replicas: desiredReplicas },
        },
      });
    } catch (error) {
      const message = errorText(error);
      set({
        type: 'AbleToScale',
        status: 'False',
        reason: 'FailedUpdateScale',
        message: `the HPA controller was unable to update the target scale: ${message}`,
      });
      warn('FailedRescale', `New size: ${desiredReplicas}; reason: ${reason}; error: ${message}`);
      await writeStatus({
        currentReplicas,
        desiredReplicas,
        ...(currentMetrics ? { currentMetrics } : {}),
        ...(lastScaleTime ? { lastScaleTime } : {}),
      });
      if (isConflict(error))
        throw new Error(`the scale of ${ref.kind} ${namespace}/${ref.name} changed; retrying`);
      return;
    }
    set({
      type: 'AbleToScale',
      status: 'True',
      reason: 'SucceededRescale',
      message: `the HPA controller was able to update the target scale to ${desiredReplicas}`,
    });
    void context.events.record(
      hpa,
      'Normal',
      'SuccessfulRescale',
      `New size: ${desiredReplicas}; reason: ${reason}`,
    );
    const remembered = context.memory.get(key) ?? history;
    context.memory.set(key, {
      ...remembered,
      ...recordScaleEvent(remembered, {
        from: currentReplicas,
        to: desiredReplicas,
        nowMs,
        scaleUp,
        scaleDown,
      }),
    });
    lastScaleTime = nowIso;
  }
  await writeStatus({
    currentReplicas,
    desiredReplicas,
    ...(currentMetrics ? { currentMetrics } : {}),
    ...(lastScaleTime ? { lastScaleTime } : {}),
  });
}
