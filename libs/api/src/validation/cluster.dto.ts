// Service, Endpoints, Namespace, ConfigMap, Secret, Node, Event, Lease and HorizontalPodAutoscaler.
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  IsIntOrPercent,
  IsOneOf,
  IsPortName,
  IsPortNumberOrName,
  IsQuantity,
  IsStringMap,
} from './field-rules';
import { KubeObjectDto } from './meta.dto';

export class ServicePortDto {
  @IsOptional() @IsPortName() name?: string;
  @IsOptional() @IsOneOf(['TCP', 'UDP', 'SCTP']) protocol?: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsOptional() @IsPortNumberOrName() targetPort?: number | string;
  @IsOptional()
  @IsInt()
  @Min(30000, {
    message: 'Invalid:provided port is not in the valid range. The range of valid ports is 30000-32767',
  })
  @Max(32767, {
    message: 'Invalid:provided port is not in the valid range. The range of valid ports is 30000-32767',
  })
  nodePort?: number;
  @IsOptional() @IsString() appProtocol?: string;
}

export class ServiceSpecDto {
  @IsOptional() @IsOneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']) type?: string;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ServicePortDto)
  ports?: ServicePortDto[];
  @IsOptional() @IsStringMap() selector?: Record<string, string>;
  @IsOptional() @IsString() clusterIP?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) clusterIPs?: string[];
  @IsOptional() @IsOneOf(['None', 'ClientIP']) sessionAffinity?: string;
  @IsOptional() @IsOneOf(['Cluster', 'Local']) externalTrafficPolicy?: string;
  @IsOptional() @IsOneOf(['Cluster', 'Local']) internalTrafficPolicy?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) ipFamilies?: string[];
  @IsOptional() @IsOneOf(['SingleStack', 'PreferDualStack', 'RequireDualStack']) ipFamilyPolicy?: string;
  @IsOptional() @IsString() externalName?: string;
  @IsOptional() @IsBoolean() publishNotReadyAddresses?: boolean;
}

export class ServiceDto extends KubeObjectDto {
  @IsOptional() @ValidateNested() @Type(() => ServiceSpecDto) spec?: ServiceSpecDto;
  @IsOptional() @IsObject() status?: object;
}

export class EndpointsDto extends KubeObjectDto {
  @IsOptional() @IsArray() @IsObject({ each: true }) subsets?: object[];
}

export class NamespaceSpecDto {
  @IsOptional() @IsArray() @IsString({ each: true }) finalizers?: string[];
}

export class NamespaceDto extends KubeObjectDto {
  @IsOptional() @ValidateNested() @Type(() => NamespaceSpecDto) spec?: NamespaceSpecDto;
  @IsOptional() @IsObject() status?: object;
}

export class ConfigMapDto extends KubeObjectDto {
  @IsOptional() @IsStringMap() data?: Record<string, string>;
  @IsOptional() @IsStringMap() binaryData?: Record<string, string>;
  @IsOptional() @IsBoolean() immutable?: boolean;
}

export class SecretDto extends KubeObjectDto {
  @IsOptional() @IsStringMap() data?: Record<string, string>;
  @IsOptional() @IsStringMap() stringData?: Record<string, string>;
  @IsOptional() @IsString() type?: string;
  @IsOptional() @IsBoolean() immutable?: boolean;
}

export class TaintDto {
  @IsString() key!: string;
  @IsOptional() @IsString() value?: string;
  @IsOneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) effect!: string;
  @IsOptional() @IsString() timeAdded?: string;
}

export class NodeSpecDto {
  @IsOptional() @IsString() podCIDR?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) podCIDRs?: string[];
  @IsOptional() @IsBoolean() unschedulable?: boolean;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => TaintDto) taints?: TaintDto[];
  @IsOptional() @IsString() providerID?: string;
}

export class NodeDto extends KubeObjectDto {
  @IsOptional() @ValidateNested() @Type(() => NodeSpecDto) spec?: NodeSpecDto;
  @IsOptional() @IsObject() status?: object;
}

export class ObjectReferenceDto {
  @IsOptional() @IsString() kind?: string;
  @IsOptional() @IsString() namespace?: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() uid?: string;
  @IsOptional() @IsString() apiVersion?: string;
  @IsOptional() @IsString() resourceVersion?: string;
  @IsOptional() @IsString() fieldPath?: string;
}

export class EventSourceDto {
  @IsOptional() @IsString() component?: string;
  @IsOptional() @IsString() host?: string;
}

export class EventDto extends KubeObjectDto {
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => ObjectReferenceDto)
  involvedObject!: ObjectReferenceDto;
  @IsOptional() @IsString() reason?: string;
  @IsOptional() @IsString() message?: string;
  @IsOptional() @ValidateNested() @Type(() => EventSourceDto) source?: EventSourceDto;
  @IsOptional() @IsString() firstTimestamp?: string;
  @IsOptional() @IsString() lastTimestamp?: string;
  @IsOptional() @IsInt() @Min(0) count?: number;
  @IsOptional() @IsOneOf(['Normal', 'Warning']) type?: string;
  @IsOptional() @IsString() eventTime?: string;
  @IsOptional() @IsString() action?: string;
  @IsOptional() @IsString() reportingComponent?: string;
  @IsOptional() @IsString() reportingInstance?: string;
  @IsOptional() @IsObject() series?: object;
  @IsOptional() @IsObject() related?: object;
}

export class LeaseSpecDto {
  @IsOptional() @IsString() holderIdentity?: string;
  @IsOptional() @IsInt() @Min(1) leaseDurationSeconds?: number;
  @IsOptional() @IsString() acquireTime?: string;
  @IsOptional() @IsString() renewTime?: string;
  @IsOptional() @IsInt() @Min(0) leaseTransitions?: number;
}

export class LeaseDto extends KubeObjectDto {
  @IsOptional() @ValidateNested() @Type(() => LeaseSpecDto) spec?: LeaseSpecDto;
}

export class CrossVersionObjectReferenceDto {
  @IsString() kind!: string;
  @IsString() name!: string;
  @IsOptional() @IsString() apiVersion?: string;
}

export class MetricTargetDto {
  @IsOneOf(['Utilization', 'Value', 'AverageValue']) type!: string;
  @IsOptional() @IsInt() @Min(1) averageUtilization?: number;
  @IsOptional() @IsQuantity() averageValue?: string | number;
  @IsOptional() @IsQuantity() value?: string | number;
}

export class ResourceMetricSourceDto {
  @IsString() name!: string;
  @ValidateNested() @Type(() => MetricTargetDto) target!: MetricTargetDto;
}

export class MetricIdentifierDto {
  @IsString() name!: string;
  @IsOptional() @IsObject() selector?: object;
}

export class PodsMetricSourceDto {
  @ValidateNested() @Type(() => MetricIdentifierDto) metric!: MetricIdentifierDto;
  @ValidateNested() @Type(() => MetricTargetDto) target!: MetricTargetDto;
}

export class MetricSpecDto {
  @IsOneOf(['Resource', 'Pods', 'Object', 'External', 'ContainerResource']) type!: string;
  @IsOptional() @ValidateNested() @Type(() => ResourceMetricSourceDto) resource?: ResourceMetricSourceDto;
  @IsOptional() @ValidateNested() @Type(() => PodsMetricSourceDto) pods?: PodsMetricSourceDto;
  @IsOptional() @IsObject() object?: object;
  @IsOptional() @IsObject() external?: object;
  @IsOptional() @IsObject() containerResource?: object;
}

export class ScalingPolicyDto {
  @IsOneOf(['Pods', 'Percent']) type!: string;
  @IsInt() @Min(1) value!: number;
  @IsInt() @Min(1) @Max(1800) periodSeconds!: number;
}

export class ScalingRulesDto {
  @IsOptional() @IsInt() @Min(0) @Max(3600) stabilizationWindowSeconds?: number;
  @IsOptional() @IsOneOf(['Max', 'Min', 'Disabled']) selectPolicy?: string;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ScalingPolicyDto)
  policies?: ScalingPolicyDto[];
  @IsOptional() @IsIntOrPercent() tolerance?: string;
}

export class HpaBehaviorDto {
  @IsOptional() @ValidateNested() @Type(() => ScalingRulesDto) scaleUp?: ScalingRulesDto;
  @IsOptional() @ValidateNested() @Type(() => ScalingRulesDto) scaleDown?: ScalingRulesDto;
}

export class HpaSpecDto {
  @ValidateNested()
  @Type(() => CrossVersionObjectReferenceDto)
  scaleTargetRef!: CrossVersionObjectReferenceDto;
  @IsOptional() @IsInt() @Min(1) minReplicas?: number;
  @IsInt() @Min(1) maxReplicas!: number;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => MetricSpecDto)
  metrics?: MetricSpecDto[];
  @IsOptional() @ValidateNested() @Type(() => HpaBehaviorDto) behavior?: HpaBehaviorDto;
}

export class HorizontalPodAutoscalerDto extends KubeObjectDto {
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => HpaSpecDto)
  spec!: HpaSpecDto;
  @IsOptional() @IsObject() status?: object;
}
