output "site_url" {
  description = "The leaderboard site."
  value       = module.tatourney.site_url
}

output "stats_url" {
  description = "The leaderboard's JSON (curl -i shows X-Cache)."
  value       = module.tatourney.stats_url
}

output "games_table_name" {
  description = "Write games here to see the leaderboard move."
  value       = module.tatourney.games_table_name
}

output "stream_failures_queue_url" {
  description = "Stream records the functions gave up on."
  value       = module.tatourney.stream_failures_queue_url
}

output "dashboard_name" {
  description = "The CloudWatch dashboard: hit ratio, scans, freshness and the alarms."
  value       = module.tatourney.dashboard_name
}
