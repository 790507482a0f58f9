// Deployment and ReplicaSet.
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsInt, IsObject, IsOptional, Min, ValidateNested } from 'class-validator';
import { IsIntOrPercent, IsOneOf } from './field-rules';
import { KubeObjectDto, LabelSelectorDto } from './meta.dto';
import { PodTemplateSpecDto } from './pod.dto';

export class RollingUpdateDto {
  @IsOptional() @IsIntOrPercent() maxSurge?: number | string;
  @IsOptional() @IsIntOrPercent() maxUnavailable?: number | string;
}

export class DeploymentStrategyDto {
  @IsOptional() @IsOneOf(['RollingUpdate', 'Recreate']) type?: string;
  @IsOptional() @ValidateNested() @Type(() => RollingUpdateDto) rollingUpdate?: RollingUpdateDto;
}

export class DeploymentSpecDto {
  @IsOptional() @IsInt() @Min(0) replicas?: number;
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => LabelSelectorDto)
  selector!: LabelSelectorDto;
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => PodTemplateSpecDto)
  template!: PodTemplateSpecDto;
  @IsOptional() @ValidateNested() @Type(() => DeploymentStrategyDto) strategy?: DeploymentStrategyDto;
  @IsOptional() @IsInt() @Min(0) minReadySeconds?: number;
  @IsOptional() @IsInt() @Min(0) revisionHistoryLimit?: number;
  @IsOptional() @IsBoolean() paused?: boolean;
  @IsOptional() @IsInt() @Min(1) progressDeadlineSeconds?: number;
}

export class DeploymentDto extends KubeObjectDto {
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => DeploymentSpecDto)
  spec!: DeploymentSpecDto;
  @IsOptional() @IsObject() status?: object;
}

export class ReplicaSetSpecDto {
  @IsOptional() @IsInt() @Min(0) replicas?: number;
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => LabelSelectorDto)
  selector!: LabelSelectorDto;
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => PodTemplateSpecDto)
  template!: PodTemplateSpecDto;
  @IsOptional() @IsInt() @Min(0) minReadySeconds?: number;
}

export class ReplicaSetDto extends KubeObjectDto {
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => ReplicaSetSpecDto)
  spec!: ReplicaSetSpecDto;
  @IsOptional() @IsObject() status?: object;
}
