output "cluster_id" {
  description = "ID of the Memcached cluster."
  value       = aws_elasticache_cluster.this.cluster_id
}

output "configuration_endpoint" {
  description = "Configuration endpoint (host:port), for clients with ElastiCache auto discovery."
  value       = aws_elasticache_cluster.this.configuration_endpoint
}

output "node_endpoints" {
  description = "host:port of every node, in node order: the functions' CACHE_ENDPOINTS."
  value       = [for node in aws_elasticache_cluster.this.cache_nodes : "${node.address}:${node.port}"]
}

output "port" {
  description = "TCP port of the nodes."
  value       = var.port
}

output "max_item_size_bytes" {
  description = "The item size limit the nodes enforce."
  value       = var.max_item_size_bytes
}

output "transit_encryption_enabled" {
  description = "Whether clients must connect with TLS."
  value       = var.transit_encryption_enabled
}
