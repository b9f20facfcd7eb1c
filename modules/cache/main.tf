resource "aws_elasticache_subnet_group" "this" {
  name        = var.name
  description = "tatourney Memcached nodes"
  subnet_ids  = var.subnet_ids

  tags = var.tags
}

resource "aws_elasticache_parameter_group" "this" {
  name        = var.name
  family      = "memcached1.6"
  description = "tatourney Memcached: item size limit the functions are told about"

  parameter {
    name  = "max_item_size"
    value = tostring(var.max_item_size_bytes)
  }

  tags = var.tags
}

resource "aws_elasticache_cluster" "this" {
  cluster_id           = var.name
  engine               = "memcached"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_nodes      = var.num_nodes
  az_mode              = var.az_mode
  port                 = var.port
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = var.security_group_ids
  maintenance_window   = var.maintenance_window

  transit_encryption_enabled = var.transit_encryption_enabled
  # A cache miss is a table read, not lost data: resizing during the maintenance window would
  # delay a node-count change for up to a week for nothing.
  apply_immediately = true

  tags = var.tags
}
