output "vpc_id" {
  description = "ID of the VPC the functions and the cache run in."
  value       = local.vpc_id
}

output "subnet_ids" {
  description = "Private subnets for the functions and the cache."
  value       = local.subnet_ids
}

output "functions_security_group_id" {
  description = "Security group of the functions that talk to the cache."
  value       = aws_security_group.functions.id
}

output "cache_security_group_id" {
  description = "Security group of the Memcached nodes; admits the cache port from the functions' group only."
  value       = aws_security_group.cache.id
}

output "dynamodb_endpoint_id" {
  description = "ID of the DynamoDB gateway endpoint, or null when create_dynamodb_endpoint = false."
  value       = one(aws_vpc_endpoint.dynamodb[*].id)
}
