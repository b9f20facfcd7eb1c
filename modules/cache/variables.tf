variable "name" {
  description = "Cluster ID and prefix of the subnet and parameter group names."
  type        = string

  validation {
    # ElastiCache cluster IDs: 1-40 lowercase letters, digits or hyphens, starting with a letter.
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name)) && !strcontains(var.name, "--") && !endswith(var.name, "-")
    error_message = "name must be 1-40 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the cache nodes."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "security_group_ids" {
  description = "Security groups of the cache nodes (the network module's cache group admits the port from the functions only)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1
    error_message = "security_group_ids needs at least one security group."
  }
}

variable "node_type" {
  description = "Node type. cache.t4g.micro (0.5 GiB) holds a leaderboard of well over 10,000 players; the original's cache.t2.small is a previous generation."
  type        = string
  default     = "cache.t4g.micro"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must be an ElastiCache node type such as cache.t4g.micro."
  }
}

variable "num_nodes" {
  description = "Number of Memcached nodes. The functions spread keys over all of them; losing one loses only its share of keys."
  type        = number
  default     = 1

  validation {
    condition     = var.num_nodes >= 1 && var.num_nodes <= 40 && floor(var.num_nodes) == var.num_nodes
    error_message = "num_nodes must be a whole number between 1 and 40."
  }
}

variable "az_mode" {
  description = "single-az or cross-az (cross-az needs num_nodes >= 2)."
  type        = string
  default     = "single-az"

  validation {
    condition     = contains(["single-az", "cross-az"], var.az_mode)
    error_message = "az_mode must be single-az or cross-az."
  }

  validation {
    condition     = var.az_mode == "single-az" || var.num_nodes >= 2
    error_message = "az_mode = cross-az needs num_nodes >= 2."
  }
}

variable "engine_version" {
  description = "Memcached engine version (1.6.12 or later for in-transit encryption)."
  type        = string
  default     = "1.6.22"

  validation {
    condition     = can(regex("^1\\.6\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Memcached 1.6.x version; the parameter group family is memcached1.6."
  }
}

variable "port" {
  description = "TCP port of the nodes."
  type        = number
  default     = 11211

  validation {
    condition     = var.port >= 1024 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "port must be an integer between 1024 and 65535."
  }
}

variable "max_item_size_bytes" {
  description = "Memcached's item size limit (parameter max_item_size): a multiple of 512 KiB (ElastiCache's slab_chunk_max) up to 128 MiB, and at most a quarter of a node's memory for data. The functions get the same value, and compress or skip caching a leaderboard above it. Changing it replaces the cluster (see main.tf)."
  type        = number
  default     = 1048576

  # ElastiCache refuses to create or modify a cluster when slab_chunk_max > max_item_size, when
  # max_item_size is not a multiple of slab_chunk_max (524288 bytes, ElastiCache's default, which
  # this module keeps), or when it exceeds a quarter of the node's memory for data
  # (max_cache_memory less memcached_connections_overhead, 100 MiB by default); memcached itself
  # allows at most 128 MiB.
  validation {
    condition     = var.max_item_size_bytes >= 524288 && var.max_item_size_bytes <= 134217728 && var.max_item_size_bytes % 524288 == 0
    error_message = "max_item_size_bytes must be a multiple of 524288 (512 KiB, ElastiCache's slab_chunk_max) between 524288 and 134217728 (128 MiB)."
  }

  # Only the 0.5 GiB node types have a quarter of their data memory below 128 MiB; every other
  # current node type has 1.37 GiB or more ((1.37 GiB - 100 MiB) / 4 > 128 MiB). Their memory, in
  # MiB: max_cache_memory (cache.t2.micro, ElastiCache's node-type parameters) or the node type's
  # 0.5 GiB.
  validation {
    condition     = var.max_item_size_bytes <= floor((lookup({ "cache.t2.micro" = 555, "cache.t3.micro" = 512, "cache.t4g.micro" = 512 }, var.node_type, 1024) - 100) / 4) * 1048576
    error_message = "max_item_size_bytes is more than a quarter of ${var.node_type}'s memory for data ((node memory - 100 MiB connection overhead) / 4), which ElastiCache refuses: lower it or choose a larger node type."
  }
}

variable "transit_encryption_enabled" {
  description = "Encrypt traffic between the functions and the nodes with TLS (the functions then connect with TLS too). ElastiCache sets it at creation only: changing it replaces the cluster."
  type        = bool
  default     = true
}

variable "maintenance_window" {
  description = "Weekly maintenance window (UTC), ddd:hh24:mi-ddd:hh24:mi."
  type        = string
  default     = "sun:05:00-sun:06:00"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must look like sun:05:00-sun:06:00."
  }
}

variable "tags" {
  description = "Tags for every resource this module creates."
  type        = map(string)
  default     = {}
}
