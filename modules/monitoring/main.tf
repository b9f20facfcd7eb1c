data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region       = data.aws_region.current.region
  create_topic = var.alarm_topic_arn == null
  topic_arn    = local.create_topic ? aws_sns_topic.alarms[0].arn : var.alarm_topic_arn
  alarm_arns   = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
}

# --- where the alarms go ---------------------------------------------------------------------

# CloudWatch can publish to an encrypted topic only when the key lets it; the AWS managed key
# for SNS does not, so the topic gets a key of its own (1 USD a month).
resource "aws_kms_key" "alarms" {
  count = local.create_topic ? 1 : 0

  description             = "${var.name} alarm notifications (SNS topic ${var.name}-alarms)"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.alarms_key.json

  tags = var.tags
}

# A key policy's "*" resource is the key itself. The account keeps managing the key through IAM
# (each action named, no wildcard), and CloudWatch may encrypt what it publishes to the topic.
data "aws_iam_policy_document" "alarms_key" {
  #checkov:skip=CKV_AWS_109:a key policy's resource "*" is this key only; the account administers it through IAM
  #checkov:skip=CKV_AWS_111:as above: "*" is this key, and only the account and CloudWatch (for this account's alarms) are named
  #checkov:skip=CKV_AWS_356:as above: a key policy cannot name its key otherwise
  statement {
    sid = "AccountAdministersTheKeyThroughIam"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RevokeGrant",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic" "alarms" {
  count = local.create_topic ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms[0].arn

  tags = var.tags
}

resource "aws_sns_topic_subscription" "alarm_emails" {
  for_each = local.create_topic ? toset(var.alarm_emails) : toset([])

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# --- the alarms (defined in alarms.tf) --------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name        = "${var.name}-${each.key}"
  alarm_description = "${each.value.description} Runbook: docs/operations.md#${each.value.anchor}"

  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  evaluation_periods  = var.evaluation_minutes
  datapoints_to_alarm = var.breaching_minutes_to_alarm
  # Every metric here is absent while nothing happens (no records, no requests, no throttles):
  # quiet is healthy.
  treat_missing_data = "notBreaching"

  alarm_actions = [local.topic_arn]
  ok_actions    = [local.topic_arn]

  # The expression, when there is one, is what the alarm compares; its metrics only feed it.
  dynamic "metric_query" {
    for_each = each.value.expression == null ? {} : { e = each.value.expression }
    content {
      id          = metric_query.key
      expression  = metric_query.value
      label       = each.key
      return_data = true
    }
  }

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id          = metric_query.key
      return_data = each.value.expression == null

      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        stat        = metric_query.value.stat
        dimensions  = metric_query.value.dimensions
        period      = 60
      }
    }
  }

  tags = var.tags
}

# --- the dashboard (graphs in dashboard.tf) ---------------------------------------------------

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = concat(
      [
        {
          type = "alarm", x = 0, y = 0, width = 24, height = local.graphs_top
          properties = {
            title = "Alarms (runbook: docs/operations.md)"
            # A widget shows at most 100 alarms; only a cache of 31 nodes or more makes that many.
            alarms = slice(local.alarm_arns, 0, min(100, length(local.alarm_arns)))
          }
        },
      ],
      local.metric_widgets,
    )
  })
}
