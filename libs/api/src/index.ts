export { Quantity, QuantityError, tryParseQuantity } from './quantity';
export type { QuantityFormat } from './quantity';
export {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_SUBDOMAIN_MAX_LENGTH,
} from './names';
