data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_region" "current" {}

locals {
  vpc_id          = var.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  subnet_ids      = var.create_vpc ? aws_subnet.private[*].id : var.subnet_ids
  route_table_ids = var.create_vpc ? [aws_route_table.private[0].id] : var.route_table_ids
  azs             = slice(data.aws_availability_zones.available.names, 0, 2)
}

resource "aws_vpc" "this" {
  count = var.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# With no rules, the VPC's default security group denies everything, so nothing can fall back
# to it by accident.
resource "aws_default_security_group" "this" {
  count = var.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_subnet" "private" {
  count = var.create_vpc ? 2 : 0

  vpc_id            = aws_vpc.this[0].id
  cidr_block        = cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), count.index)
  availability_zone = local.azs[count.index]

  tags = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

# No internet or NAT route: the functions need only the cache (in the VPC) and DynamoDB
# (through the gateway endpoint), which saves a NAT gateway's ~32 USD a month.
resource "aws_route_table" "private" {
  count = var.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-private" })
}

resource "aws_route_table_association" "private" {
  count = var.create_vpc ? 2 : 0

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

resource "aws_vpc_endpoint" "dynamodb" {
  count = var.create_dynamodb_endpoint ? 1 : 0

  vpc_id            = local.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.route_table_ids

  tags = merge(var.tags, { Name = "${var.name}-dynamodb" })
}

data "aws_ec2_managed_prefix_list" "dynamodb" {
  name = "com.amazonaws.${data.aws_region.current.region}.dynamodb"
}

resource "aws_security_group" "functions" {
  name        = "${var.name}-functions"
  description = "tatourney functions: outbound to the cache and to DynamoDB only"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-functions" })
}

resource "aws_vpc_security_group_egress_rule" "functions_to_cache" {
  security_group_id            = aws_security_group.functions.id
  description                  = "Memcached"
  ip_protocol                  = "tcp"
  from_port                    = var.cache_port
  to_port                      = var.cache_port
  referenced_security_group_id = aws_security_group.cache.id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_dynamodb" {
  security_group_id = aws_security_group.functions.id
  description       = "DynamoDB over HTTPS, through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_ec2_managed_prefix_list.dynamodb.id
}

resource "aws_security_group" "cache" {
  name        = "${var.name}-cache"
  description = "tatourney Memcached: reachable from the functions only"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-cache" })
}

resource "aws_vpc_security_group_ingress_rule" "cache_from_functions" {
  security_group_id            = aws_security_group.cache.id
  description                  = "Memcached from the functions"
  ip_protocol                  = "tcp"
  from_port                    = var.cache_port
  to_port                      = var.cache_port
  referenced_security_group_id = aws_security_group.functions.id
}
