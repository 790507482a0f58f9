// Pod and everything a pod template holds: containers, probes, volumes, scheduling constraints.
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
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
  IsDns1123Label,
  IsDns1123Subdomain,
  IsOneOf,
  IsPortName,
  IsPortNumberOrName,
  IsQuantity,
  IsResourceList,
  IsStringMap,
} from './field-rules';
import { KubeObjectDto, ObjectMetaDto } from './meta.dto';

export class KeySelectorDto {
  @IsString() name!: string;
  @IsString() key!: string;
  @IsOptional() @IsBoolean() optional?: boolean;
}

export class ObjectFieldSelectorDto {
  @IsOptional() @IsString() apiVersion?: string;
  @IsString() fieldPath!: string;
}

export class ResourceFieldSelectorDto {
  @IsOptional() @IsString() containerName?: string;
  @IsString() resource!: string;
  @IsOptional() @IsQuantity() divisor?: string | number;
}

export class EnvVarSourceDto {
  @IsOptional() @ValidateNested() @Type(() => KeySelectorDto) configMapKeyRef?: KeySelectorDto;
  @IsOptional() @ValidateNested() @Type(() => KeySelectorDto) secretKeyRef?: KeySelectorDto;
  @IsOptional() @ValidateNested() @Type(() => ObjectFieldSelectorDto) fieldRef?: ObjectFieldSelectorDto;
  @IsOptional()
  @ValidateNested()
  @Type(() => ResourceFieldSelectorDto)
  resourceFieldRef?: ResourceFieldSelectorDto;
}

export class EnvVarDto {
  @IsString() name!: string;
  @IsOptional() @IsString() value?: string;
  @IsOptional() @ValidateNested() @Type(() => EnvVarSourceDto) valueFrom?: EnvVarSourceDto;
}

export class RefDto {
  @IsString() name!: string;
  @IsOptional() @IsBoolean() optional?: boolean;
}

export class EnvFromSourceDto {
  @IsOptional() @IsString() prefix?: string;
  @IsOptional() @ValidateNested() @Type(() => RefDto) configMapRef?: RefDto;
  @IsOptional() @ValidateNested() @Type(() => RefDto) secretRef?: RefDto;
}

export class ContainerPortDto {
  @IsOptional() @IsPortName() name?: string;
  @IsInt() @Min(1) @Max(65535) containerPort!: number;
  @IsOptional() @IsInt() @Min(1) @Max(65535) hostPort?: number;
  @IsOptional() @IsString() hostIP?: string;
  @IsOptional() @IsOneOf(['TCP', 'UDP', 'SCTP']) protocol?: string;
}

export class ResourceRequirementsDto {
  @IsOptional() @IsResourceList() requests?: Record<string, string>;
  @IsOptional() @IsResourceList() limits?: Record<string, string>;
}

export class VolumeMountDto {
  @IsString() name!: string;
  @IsString() mountPath!: string;
  @IsOptional() @IsBoolean() readOnly?: boolean;
  @IsOptional() @IsString() subPath?: string;
}

export class ExecActionDto {
  @IsOptional() @IsArray() @IsString({ each: true }) command?: string[];
}

export class HttpHeaderDto {
  @IsString() name!: string;
  @IsString() value!: string;
}

export class HttpGetActionDto {
  @IsOptional() @IsString() path?: string;
  @IsPortNumberOrName() port!: number | string;
  @IsOptional() @IsString() host?: string;
  @IsOptional() @IsOneOf(['HTTP', 'HTTPS']) scheme?: string;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HttpHeaderDto)
  httpHeaders?: HttpHeaderDto[];
}

export class TcpSocketActionDto {
  @IsPortNumberOrName() port!: number | string;
  @IsOptional() @IsString() host?: string;
}

export class ProbeDto {
  @IsOptional() @ValidateNested() @Type(() => ExecActionDto) exec?: ExecActionDto;
  @IsOptional() @ValidateNested() @Type(() => HttpGetActionDto) httpGet?: HttpGetActionDto;
  @IsOptional() @ValidateNested() @Type(() => TcpSocketActionDto) tcpSocket?: TcpSocketActionDto;
  @IsOptional() @IsInt() @Min(0) initialDelaySeconds?: number;
  @IsOptional() @IsInt() @Min(1) timeoutSeconds?: number;
  @IsOptional() @IsInt() @Min(1) periodSeconds?: number;
  @IsOptional() @IsInt() @Min(1) successThreshold?: number;
  @IsOptional() @IsInt() @Min(1) failureThreshold?: number;
  @IsOptional() @IsInt() @Min(0) terminationGracePeriodSeconds?: number;
}

export class LifecycleHandlerDto {
  @IsOptional() @ValidateNested() @Type(() => ExecActionDto) exec?: ExecActionDto;
  @IsOptional() @ValidateNested() @Type(() => HttpGetActionDto) httpGet?: HttpGetActionDto;
  @IsOptional() @ValidateNested() @Type(() => TcpSocketActionDto) tcpSocket?: TcpSocketActionDto;
}

export class LifecycleDto {
  @IsOptional() @ValidateNested() @Type(() => LifecycleHandlerDto) preStop?: LifecycleHandlerDto;
  @IsOptional() @ValidateNested() @Type(() => LifecycleHandlerDto) postStart?: LifecycleHandlerDto;
}

export class SecurityContextDto {
  @IsOptional() @IsInt() runAsUser?: number;
  @IsOptional() @IsInt() runAsGroup?: number;
  @IsOptional() @IsBoolean() runAsNonRoot?: boolean;
  @IsOptional() @IsBoolean() readOnlyRootFilesystem?: boolean;
  @IsOptional() @IsBoolean() allowPrivilegeEscalation?: boolean;
  @IsOptional() @IsBoolean() privileged?: boolean;
  @IsOptional() @IsObject() capabilities?: object;
  @IsOptional() @IsInt() fsGroup?: number;
  @IsOptional() @IsArray() @IsInt({ each: true }) supplementalGroups?: number[];
}

export class ContainerDto {
  @IsDns1123Label() name!: string;
  @IsDefined({ message: 'Required:Required value' }) @IsString() image!: string;
  @IsOptional() @IsArray() @IsString({ each: true }) command?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) args?: string[];
  @IsOptional() @IsString() workingDir?: string;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ContainerPortDto)
  ports?: ContainerPortDto[];
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => EnvVarDto) env?: EnvVarDto[];
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => EnvFromSourceDto)
  envFrom?: EnvFromSourceDto[];
  @IsOptional() @ValidateNested() @Type(() => ResourceRequirementsDto) resources?: ResourceRequirementsDto;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => VolumeMountDto)
  volumeMounts?: VolumeMountDto[];
  @IsOptional() @ValidateNested() @Type(() => ProbeDto) livenessProbe?: ProbeDto;
  @IsOptional() @ValidateNested() @Type(() => ProbeDto) readinessProbe?: ProbeDto;
  @IsOptional() @ValidateNested() @Type(() => ProbeDto) startupProbe?: ProbeDto;
  @IsOptional() @ValidateNested() @Type(() => LifecycleDto) lifecycle?: LifecycleDto;
  @IsOptional() @IsString() terminationMessagePath?: string;
  @IsOptional() @IsOneOf(['File', 'FallbackToLogsOnError']) terminationMessagePolicy?: string;
  @IsOptional() @IsOneOf(['Always', 'IfNotPresent', 'Never']) imagePullPolicy?: string;
  @IsOptional() @ValidateNested() @Type(() => SecurityContextDto) securityContext?: SecurityContextDto;
  @IsOptional() @IsBoolean() stdin?: boolean;
  @IsOptional() @IsBoolean() tty?: boolean;
}

export class KeyToPathDto {
  @IsString() key!: string;
  @IsString() path!: string;
  @IsOptional() @IsInt() mode?: number;
}

export class ConfigMapVolumeSourceDto {
  @IsString() name!: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => KeyToPathDto) items?: KeyToPathDto[];
  @IsOptional() @IsInt() defaultMode?: number;
  @IsOptional() @IsBoolean() optional?: boolean;
}

export class SecretVolumeSourceDto {
  @IsString() secretName!: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => KeyToPathDto) items?: KeyToPathDto[];
  @IsOptional() @IsInt() defaultMode?: number;
  @IsOptional() @IsBoolean() optional?: boolean;
}

export class EmptyDirVolumeSourceDto {
  @IsOptional() @IsOneOf(['', 'Memory']) medium?: string;
  @IsOptional() @IsQuantity() sizeLimit?: string;
}

export class HostPathVolumeSourceDto {
  @IsString() path!: string;
  @IsOptional()
  @IsOneOf([
    '',
    'DirectoryOrCreate',
    'Directory',
    'FileOrCreate',
    'File',
    'Socket',
    'CharDevice',
    'BlockDevice',
  ])
  type?: string;
}

export class VolumeDto {
  @IsDns1123Label() name!: string;
  @IsOptional() @ValidateNested() @Type(() => EmptyDirVolumeSourceDto) emptyDir?: EmptyDirVolumeSourceDto;
  @IsOptional() @ValidateNested() @Type(() => HostPathVolumeSourceDto) hostPath?: HostPathVolumeSourceDto;
  @IsOptional() @ValidateNested() @Type(() => ConfigMapVolumeSourceDto) configMap?: ConfigMapVolumeSourceDto;
  @IsOptional() @ValidateNested() @Type(() => SecretVolumeSourceDto) secret?: SecretVolumeSourceDto;
}

export class TolerationDto {
  @IsOptional() @IsString() key?: string;
  @IsOptional() @IsOneOf(['Exists', 'Equal']) operator?: string;
  @IsOptional() @IsString() value?: string;
  @IsOptional() @IsOneOf(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute']) effect?: string;
  @IsOptional() @IsInt() tolerationSeconds?: number;
}

export class NodeSelectorRequirementDto {
  @IsString() key!: string;
  @IsOneOf(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']) operator!: string;
  @IsOptional() @IsArray() @IsString({ each: true }) values?: string[];
}

export class NodeSelectorTermDto {
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => NodeSelectorRequirementDto)
  matchExpressions?: NodeSelectorRequirementDto[];
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => NodeSelectorRequirementDto)
  matchFields?: NodeSelectorRequirementDto[];
}

export class NodeSelectorDto {
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => NodeSelectorTermDto)
  nodeSelectorTerms!: NodeSelectorTermDto[];
}

export class PreferredSchedulingTermDto {
  @IsInt() @Min(1) @Max(100) weight!: number;
  @ValidateNested() @Type(() => NodeSelectorTermDto) preference!: NodeSelectorTermDto;
}

export class NodeAffinityDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => NodeSelectorDto)
  requiredDuringSchedulingIgnoredDuringExecution?: NodeSelectorDto;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PreferredSchedulingTermDto)
  preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTermDto[];
}

export class AffinityDto {
  @IsOptional() @ValidateNested() @Type(() => NodeAffinityDto) nodeAffinity?: NodeAffinityDto;
}

export class LocalObjectReferenceDto {
  @IsString() name!: string;
}

export class PodSpecDto {
  @IsArray()
  @ArrayNotEmpty({ message: 'Required:Required value' })
  @ValidateNested({ each: true })
  @Type(() => ContainerDto)
  containers!: ContainerDto[];
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ContainerDto)
  initContainers?: ContainerDto[];
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => VolumeDto) volumes?: VolumeDto[];
  @IsOptional() @IsOneOf(['Always', 'OnFailure', 'Never']) restartPolicy?: string;
  @IsOptional() @IsInt() @Min(0) terminationGracePeriodSeconds?: number;
  @IsOptional() @IsInt() @Min(1) activeDeadlineSeconds?: number;
  @IsOptional() @IsOneOf(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']) dnsPolicy?: string;
  @IsOptional() @IsStringMap() nodeSelector?: Record<string, string>;
  @IsOptional() @IsString() nodeName?: string;
  @IsOptional() @IsString() serviceAccountName?: string;
  @IsOptional() @IsBoolean() automountServiceAccountToken?: boolean;
  @IsOptional() @IsBoolean() hostNetwork?: boolean;
  @IsOptional() @IsBoolean() hostPID?: boolean;
  @IsOptional() @IsBoolean() hostIPC?: boolean;
  @IsOptional() @ValidateNested() @Type(() => SecurityContextDto) securityContext?: SecurityContextDto;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LocalObjectReferenceDto)
  imagePullSecrets?: LocalObjectReferenceDto[];
  @IsOptional() @IsDns1123Label() hostname?: string;
  @IsOptional() @IsDns1123Label() subdomain?: string;
  @IsOptional() @ValidateNested() @Type(() => AffinityDto) affinity?: AffinityDto;
  @IsOptional() @IsString() schedulerName?: string;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TolerationDto)
  tolerations?: TolerationDto[];
  @IsOptional() @IsString() priorityClassName?: string;
  @IsOptional() @IsInt() priority?: number;
  @IsOptional() @IsBoolean() enableServiceLinks?: boolean;
  @IsOptional() @IsDns1123Subdomain() @IsOptional() runtimeClassName?: string;
}

export class PodTemplateSpecDto {
  @IsOptional() @ValidateNested() @Type(() => ObjectMetaDto) metadata?: ObjectMetaDto;
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => PodSpecDto)
  spec!: PodSpecDto;
}

export class PodDto extends KubeObjectDto {
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => PodSpecDto)
  spec!: PodSpecDto;
  @IsOptional() @IsObject() status?: object;
}
