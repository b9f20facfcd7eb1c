output "site_url" {
  description = "The leaderboard site, S3 website hosting as LocalStack serves it (open it in a browser on this host)."
  value       = "${local.site_url}/"
}

output "stats_url" {
  description = "The leaderboard's JSON, through the function URL."
  value       = module.tatourney.stats_url
}

output "function_names" {
  description = "The three functions by role."
  value       = module.tatourney.function_names
}

output "games_table_name" {
  description = "Table the games are written to."
  value       = module.tatourney.games_table_name
}

output "stats_table_name" {
  description = "Table of per-player stats."
  value       = module.tatourney.stats_table_name
}

output "stream_failures_queue_url" {
  description = "Where the stream mappings put the records they give up on, and aggregate the games it rejects."
  value       = module.tatourney.stream_failures_queue_url
}

output "dashboard_name" {
  description = "The CloudWatch dashboard, when create_monitoring = true."
  value       = module.tatourney.dashboard_name
}
