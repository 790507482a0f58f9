// ObjectMeta and the label selector, as every kind carries them.
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  ValidateNested,
} from 'class-validator';
import { IsLabelMap, IsOneOf, IsStringMap } from './field-rules';

export class OwnerReferenceDto {
  @IsString() apiVersion!: string;
  @IsString() kind!: string;
  @IsString() name!: string;
  @IsString() uid!: string;
  @IsOptional() @IsBoolean() controller?: boolean;
  @IsOptional() @IsBoolean() blockOwnerDeletion?: boolean;
}

export class ManagedFieldsEntryDto {
  @IsOptional() @IsString() manager?: string;
  @IsOptional() @IsString() operation?: string;
  @IsOptional() @IsString() apiVersion?: string;
  @IsOptional() @IsString() time?: string;
  @IsOptional() @IsString() fieldsType?: string;
  @IsOptional() @IsObject() fieldsV1?: object;
  @IsOptional() @IsString() subresource?: string;
}

/** Names are checked per kind by validate-object.ts, which knows which rule applies. */
export class ObjectMetaDto {
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() generateName?: string;
  @IsOptional() @IsString() namespace?: string;
  @IsOptional() @IsString() uid?: string;
  @IsOptional() @IsString() resourceVersion?: string;
  @IsOptional() @IsInt() generation?: number;
  @IsOptional() @IsString() creationTimestamp?: string;
  @IsOptional() @IsString() deletionTimestamp?: string;
  @IsOptional() @IsInt() deletionGracePeriodSeconds?: number;
  @IsOptional() @IsLabelMap() labels?: Record<string, string>;
  @IsOptional() @IsStringMap() annotations?: Record<string, string>;
  @IsOptional() @IsArray() @IsString({ each: true }) finalizers?: string[];
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => OwnerReferenceDto)
  ownerReferences?: OwnerReferenceDto[];
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ManagedFieldsEntryDto)
  managedFields?: ManagedFieldsEntryDto[];
  @IsOptional() @IsString() selfLink?: string;
}

export class LabelSelectorRequirementDto {
  @IsString() key!: string;
  @IsOneOf(['In', 'NotIn', 'Exists', 'DoesNotExist']) operator!: string;
  @IsOptional() @IsArray() @IsString({ each: true }) values?: string[];
}

export class LabelSelectorDto {
  @IsOptional() @IsLabelMap() matchLabels?: Record<string, string>;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LabelSelectorRequirementDto)
  matchExpressions?: LabelSelectorRequirementDto[];
}

/** Every top-level object: apiVersion and kind are checked against the path by the apiserver. */
export class KubeObjectDto {
  @IsOptional() @IsString() apiVersion?: string;
  @IsOptional() @IsString() kind?: string;
  @IsDefined({ message: 'Required:Required value' })
  @ValidateNested()
  @Type(() => ObjectMetaDto)
  metadata!: ObjectMetaDto;
}
