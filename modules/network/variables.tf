variable "name" {
  description = "Prefix for the names of everything this module creates."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "name must be 2-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "create_vpc" {
  description = "Create a VPC with two private subnets. Set false to use vpc_id, subnet_ids and route_table_ids instead."
  type        = bool
  default     = true
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC this module creates (create_vpc = true); each private subnet takes a /24 of it."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 22
    error_message = "vpc_cidr must be an IPv4 CIDR block of /22 or larger, such as 10.42.0.0/16."
  }
}

variable "availability_zones" {
  description = "The two zones of the private subnets (create_vpc = true). Empty: the first two available zones, by name, that offer cache_node_type's EC2 instance type."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) == 2 && length(distinct(var.availability_zones)) == 2)
    error_message = "availability_zones must be empty or two different zones."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type the subnets must host; picks the zones when availability_zones is empty. Null: any available zones."
  type        = string
  default     = null

  validation {
    condition     = var.cache_node_type == null || can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.cache_node_type))
    error_message = "cache_node_type must be an ElastiCache node type such as cache.t4g.micro."
  }
}

variable "vpc_id" {
  description = "An existing VPC to use when create_vpc = false."
  type        = string
  default     = null

  validation {
    condition     = var.create_vpc || var.vpc_id != null
    error_message = "vpc_id is required when create_vpc = false."
  }
}

variable "subnet_ids" {
  description = "Existing private subnets (two or more, in different AZs) to use when create_vpc = false."
  type        = list(string)
  default     = []

  validation {
    condition     = var.create_vpc || length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs two or more subnets when create_vpc = false."
  }
}

variable "route_table_ids" {
  description = "Route tables of the existing subnets, for the DynamoDB gateway endpoint (create_vpc = false and create_dynamodb_endpoint = true)."
  type        = list(string)
  default     = []
}

variable "create_dynamodb_endpoint" {
  description = "Create a DynamoDB gateway endpoint so functions in the private subnets reach DynamoDB without a NAT gateway. Null: only in the VPC this module creates. On an existing VPC (true), the endpoint goes on route_table_ids and its policy admits only the leaderboard's reads of the stats table: every other workload routed through it loses DynamoDB, so only for route tables this stack has to itself."
  type        = bool
  default     = null

  validation {
    condition     = var.create_dynamodb_endpoint != true || var.create_vpc || length(var.route_table_ids) > 0
    error_message = "route_table_ids is required to create the DynamoDB endpoint in an existing VPC."
  }
}

variable "stats_table_arn" {
  description = "ARN of the stats table: the only table the DynamoDB gateway endpoint lets through."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", var.stats_table_arn))
    error_message = "stats_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:region:account:table/name)."
  }
}

variable "leaderboard_role_arn" {
  description = "ARN of the leaderboard function's role: the only principal the DynamoDB gateway endpoint lets through."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.leaderboard_role_arn))
    error_message = "leaderboard_role_arn must be an IAM role ARN."
  }
}

variable "cache_port" {
  description = "TCP port of the Memcached nodes, the only port the cache security group admits."
  type        = number
  default     = 11211

  validation {
    condition     = var.cache_port >= 1024 && var.cache_port <= 65535 && floor(var.cache_port) == var.cache_port
    error_message = "cache_port must be an integer between 1024 and 65535."
  }
}

variable "tags" {
  description = "Tags for every resource this module creates."
  type        = map(string)
  default     = {}
}
