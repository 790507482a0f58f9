// The bodies of the scale and binding subresources: autoscaling/v1 Scale and core/v1 Binding.
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { ObjectReferenceDto } from './cluster.dto';
import { KubeObjectDto } from './meta.dto';

export class ScaleSpecDto {
  @IsOptional() @IsInt() @Min(0) replicas?: number;
}

export class ScaleStatusDto {
  @IsInt() @Min(0) replicas!: number;
  /** The label selector in its string form ("app=web"), as autoscaling/v1 carries it. */
  @IsOptional() @IsString() selector?: string;
}

export class ScaleDto extends KubeObjectDto {
  @IsOptional() @ValidateNested() @Type(() => ScaleSpecDto) spec?: ScaleSpecDto;
  @IsOptional() @ValidateNested() @Type(() => ScaleStatusDto) status?: ScaleStatusDto;
}

export class BindingDto extends KubeObjectDto {
  @IsDefined() @ValidateNested() @Type(() => ObjectReferenceDto) target!: ObjectReferenceDto;
}
