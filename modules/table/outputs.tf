output "games_table_name" {
  description = "Name of the games table (one item per player per game)."
  value       = aws_dynamodb_table.games.name
}

output "games_table_arn" {
  description = "ARN of the games table."
  value       = aws_dynamodb_table.games.arn
}

output "games_stream_arn" {
  description = "ARN of the games table's stream, which the aggregate function consumes."
  value       = aws_dynamodb_table.games.stream_arn
}

output "stats_table_name" {
  description = "Name of the stats table (one row per player)."
  value       = aws_dynamodb_table.stats.name
}

output "stats_table_arn" {
  description = "ARN of the stats table."
  value       = aws_dynamodb_table.stats.arn
}

output "stats_stream_arn" {
  description = "ARN of the stats table's stream, which the invalidate function consumes."
  value       = aws_dynamodb_table.stats.stream_arn
}
