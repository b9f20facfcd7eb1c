variable "name" {
  description = "Prefix of the table names: <name>-games and <name>-stats."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,200}$", var.name))
    error_message = "name must be 1-200 characters: letters, digits, '_', '-' or '.'."
  }
}

variable "stats_read_capacity" {
  description = "Provisioned read units of the stats table. 1 is the constraint tatourney's cache exists for; the leaderboard scans this table only on a cache miss."
  type        = number
  default     = 1

  validation {
    condition     = var.stats_read_capacity >= 1 && floor(var.stats_read_capacity) == var.stats_read_capacity
    error_message = "stats_read_capacity must be a whole number of at least 1."
  }
}

variable "stats_write_capacity" {
  description = "Provisioned write units of the stats table. Each game costs its two players one transactional update each (2 units per player)."
  type        = number
  default     = 5

  validation {
    condition     = var.stats_write_capacity >= 1 && floor(var.stats_write_capacity) == var.stats_write_capacity
    error_message = "stats_write_capacity must be a whole number of at least 1."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for encryption at rest. Null uses the AWS managed key aws/dynamodb."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "point_in_time_recovery" {
  description = "Keep continuous backups of both tables (35 days)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the tables (terraform destroy fails until this is set false and applied)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for both tables."
  type        = map(string)
  default     = {}
}
