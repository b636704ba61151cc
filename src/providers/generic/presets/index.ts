/**
 * Ready configuration for real gateways, one JSON file each (its `sources` name the documentation it
 * follows). Adding a preset is adding its file and one line here.
 */
import huaweiSms from './huawei-sms.json';
import vonage from './vonage.json';

export const PRESET_FILES = {
  'huawei-sms': huaweiSms,
  vonage,
} as const;
