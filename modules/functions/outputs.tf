output "function_names" {
  description = "Function names by role: leaderboard, aggregate, invalidate, and checker when checker_enabled."
  value       = { for key, function in aws_lambda_function.functions : key => function.function_name }
}

output "function_arns" {
  description = "Function ARNs by role."
  value       = { for key, function in aws_lambda_function.functions : key => function.arn }
}

output "role_arns" {
  description = "Execution role ARNs by function."
  value       = { for key, role in aws_iam_role.functions : key => role.arn }
}

output "log_group_names" {
  description = "CloudWatch log groups of the functions."
  value       = { for key, group in aws_cloudwatch_log_group.functions : key => group.name }
}

output "api_id" {
  description = "ID of the HTTP API (null with leaderboard_endpoint = function_url)."
  value       = one(aws_apigatewayv2_api.this[*].id)
}

output "api_stage_name" {
  description = "Name of the HTTP API's stage ($default): the Stage dimension of its metrics (null with leaderboard_endpoint = function_url)."
  value       = one(aws_apigatewayv2_stage.default[*].name)
}

output "api_url" {
  description = "Base URL of the HTTP API or the function URL; the leaderboard is GET <api_url>stats."
  value       = coalesce(one(aws_apigatewayv2_stage.default[*].invoke_url), one(aws_lambda_function_url.leaderboard[*].function_url))
}

output "stream_failures_queue_url" {
  description = "SQS queue holding stream records the event source mappings gave up on, and the games records aggregate rejected."
  value       = aws_sqs_queue.stream_failures.url
}

output "stream_failures_queue_name" {
  description = "Name of the stream failures queue: the QueueName dimension of its metrics."
  value       = aws_sqs_queue.stream_failures.name
}

output "stream_failures_queue_arn" {
  description = "ARN of the stream failures queue."
  value       = aws_sqs_queue.stream_failures.arn
}
