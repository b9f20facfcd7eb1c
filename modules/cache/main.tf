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

# Running nodes apply a new max_item_size only when restarted, while the functions get the new
# limit at once: boards between the two limits would then fail to store and every read would scan.
# Terraform has no reboot action, so a change of the limit replaces the cluster (an empty cache
# the functions refill on their next misses) together with the parameter group's update.
resource "terraform_data" "max_item_size" {
  input = var.max_item_size_bytes
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

  lifecycle {
    replace_triggered_by = [terraform_data.max_item_size]
  }
}
