data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

# DynamoDB's gateway endpoint service in this region (com.amazonaws.<region>.dynamodb), looked up
# rather than built from the region's name, which provider 5.x and 6.x expose differently.
data "aws_vpc_endpoint_service" "dynamodb" {
  service      = "dynamodb"
  service_type = "Gateway"
}

# Where the cache's node type can run: not every zone offers every node type, and taking the first
# two zones by name can pick one that does not. The AWS provider has no data source for the zones
# of an ElastiCache node type; the EC2 instance type it is named after (cache.t4g.micro ->
# t4g.micro) is the closest published signal. availability_zones overrides it.
data "aws_ec2_instance_type_offerings" "cache_node_type" {
  count = var.create_vpc && length(var.availability_zones) == 0 && var.cache_node_type != null ? 1 : 0

  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [trimprefix(var.cache_node_type, "cache.")]
  }
}

locals {
  # The endpoint goes on the route tables of the VPC this module creates; on a VPC you bring it
  # would change what every other workload on those route tables may reach, so only on request.
  create_dynamodb_endpoint = coalesce(var.create_dynamodb_endpoint, var.create_vpc)

  vpc_id          = var.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  subnet_ids      = var.create_vpc ? aws_subnet.private[*].id : var.subnet_ids
  route_table_ids = var.create_vpc ? [aws_route_table.private[0].id] : var.route_table_ids

  # The zones the subnets go in: the given ones, else the first two (by name) of the available
  # zones that offer the cache's node type (null when it was not looked up).
  zones_offering_node_type = one(data.aws_ec2_instance_type_offerings.cache_node_type[*].locations)
  candidate_zones = sort(
    local.zones_offering_node_type == null
    ? data.aws_availability_zones.available.names
    : setintersection(data.aws_availability_zones.available.names, local.zones_offering_node_type)
  )
  azs = length(var.availability_zones) > 0 ? var.availability_zones : slice(local.candidate_zones, 0, min(2, length(local.candidate_zones)))
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

  lifecycle {
    precondition {
      condition     = length(local.azs) == 2
      error_message = "Fewer than two available zones in this region offer ${coalesce(var.cache_node_type, "any node type")} (found: ${join(", ", local.azs)}): set availability_zones, or choose another cache node type."
    }
  }
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
  count = local.create_dynamodb_endpoint ? 1 : 0

  vpc_id            = local.vpc_id
  service_name      = data.aws_vpc_endpoint_service.dynamodb.service_name
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.route_table_ids
  policy            = data.aws_iam_policy_document.dynamodb_endpoint.json

  tags = merge(var.tags, { Name = "${var.name}-dynamodb" })
}

# What may pass through the endpoint: the leaderboard's reads of the stats table, by its role only
# (invalidate, the other function in the VPC, never calls DynamoDB; aggregate runs outside it).
# Without a policy, an endpoint lets anything in the VPC reach any table of any account.
data "aws_iam_policy_document" "dynamodb_endpoint" {
  statement {
    sid       = "LeaderboardReadsStats"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:Scan"]
    resources = [var.stats_table_arn]

    principals {
      type        = "AWS"
      identifiers = [var.leaderboard_role_arn]
    }
  }
}

data "aws_ec2_managed_prefix_list" "dynamodb" {
  name = data.aws_vpc_endpoint_service.dynamodb.service_name
}

resource "aws_security_group" "functions" {
  name_prefix = "${var.name}-functions-"
  description = "tatourney functions: outbound to the cache and to DynamoDB only"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-functions" })

  # A renamed or re-described group is replaced: create the new one first, so the functions and
  # the cache move to it before the old one (held by Lambda's network interfaces) is deleted.
  lifecycle {
    create_before_destroy = true
  }
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
  name_prefix = "${var.name}-cache-"
  description = "tatourney Memcached: reachable from the functions only"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-cache" })

  # As for the functions' group.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "cache_from_functions" {
  security_group_id            = aws_security_group.cache.id
  description                  = "Memcached from the functions"
  ip_protocol                  = "tcp"
  from_port                    = var.cache_port
  to_port                      = var.cache_port
  referenced_security_group_id = aws_security_group.functions.id
}
