output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify: alarm_topic_arn, or the one this module created."
  value       = local.topic_arn
}

output "alarm_names" {
  description = "Names of the alarms, by what they watch."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
