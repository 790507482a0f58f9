// The words the autoscaler reports in: metric names, conditions and event messages, in Kubernetes'
// wording (pkg/controller/podautoscaler/horizontal.go) with the values added, so `describe hpa`
// says which metric, its value, the target and the result.
//
// Example: cpu at 180 % of request against 50 %, 2 → 5 replicas gives the event
//   "New size: 5; reason: cpu resource utilization (percentage of request) above target
//    (cpu: 180% of request, target 50%; was 2)".
import type { HorizontalPodAutoscalerStatus, MetricSpec } from '@flotilla/api';

export type HorizontalPodAutoscalerCondition = NonNullable<
  HorizontalPodAutoscalerStatus['conditions']
>[number];

export type HpaConditionType = HorizontalPodAutoscalerCondition['type'];

export interface ConditionUpdate {
  readonly type: HpaConditionType;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

/** Kubernetes' names for a resource metric in events and conditions. */
export function metricNameOf(metric: MetricSpec): string {
  if (metric.type !== 'Resource' || !metric.resource) return `${metric.type.toLowerCase()} metric`;
  const name = metric.resource.name;
  return metric.resource.target.type === 'Utilization'
    ? `${name} resource utilization (percentage of request)`
    : `${name} resource`;
}

export interface ObservedMetric {
  readonly metricName: string;
  /** "cpu: 180% of request, target 50%" or "cpu: 450m per pod, target 200m". */
  readonly summary: string;
}

export function utilizationSummary(resource: string, current: number, target: number): string {
  return `${resource}: ${current}% of request, target ${target}%`;
}

export function averageValueSummary(resource: string, current: string, target: string): string {
  return `${resource}: ${current} per pod, target ${target}`;
}

export interface RescaleReasonInput {
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  /** The metric that recommended the most replicas. */
  readonly leadingMetric?: ObservedMetric;
  readonly observed: readonly ObservedMetric[];
}

/** Kubernetes' rescale reason ("<metric> above target", "All metrics below target") with the values. */
export function rescaleReason(input: RescaleReasonInput): string {
  const was = `was ${input.currentReplicas}`;
  if (input.desiredReplicas > input.currentReplicas && input.leadingMetric) {
    return `${input.leadingMetric.metricName} above target (${input.leadingMetric.summary}; ${was})`;
  }
  const values = input.observed.map((metric) => metric.summary).join('; ');
  return `All metrics below target (${values}${values ? '; ' : ''}${was})`;
}

/** Sets a condition, keeping lastTransitionTime unless its status changes. */
export function setCondition(
  conditions: readonly HorizontalPodAutoscalerCondition[],
  update: ConditionUpdate,
  now: string,
): HorizontalPodAutoscalerCondition[] {
  const previous = conditions.find((condition) => condition.type === update.type);
  const next: HorizontalPodAutoscalerCondition = {
    type: update.type,
    status: update.status,
    lastTransitionTime:
      previous?.status === update.status && previous.lastTransitionTime ? previous.lastTransitionTime : now,
    reason: update.reason,
    message: update.message,
  };
  const order: HpaConditionType[] = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
  return [...conditions.filter((condition) => condition.type !== update.type), next].sort(
    (a, b) => order.indexOf(a.type) - order.indexOf(b.type),
  );
}
