output "site_url" {
  description = "The leaderboard site (S3 website hosting in LocalStack)."
  value       = module.tatourney.site_url
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
