/**
 * Ready configuration for real gateways, one JSON file each (its `sources` name the documentation it
 * follows). Adding a preset is adding its file and one line here.
 */
import huaweiSms from './huawei-sms.json';
import mandrill from './mandrill.json';
import messagebird from './messagebird.json';
import neteaseYunxin from './netease-yunxin.json';
import plivo from './plivo.json';
import postmark from './postmark.json';
import resend from './resend.json';
import telnyx from './telnyx.json';
import infobip from './infobip.json';
import sinch from './sinch.json';
import vonage from './vonage.json';
import brevo from './brevo.json';
import mailjet from './mailjet.json';
import sparkpost from './sparkpost.json';
import baiduSms from './baidu-sms.json';
import volcengineSms from './volcengine-sms.json';

export const PRESET_FILES = {
  'huawei-sms': huaweiSms,
  mandrill,
  messagebird,
  'netease-yunxin': neteaseYunxin,
  plivo,
  postmark,
  resend,
  telnyx,
  infobip,
  sinch,
  vonage,
  brevo,
  mailjet,
  sparkpost,
  'baidu-sms': baiduSms,
  'volcengine-sms': volcengineSms,
} as const;
