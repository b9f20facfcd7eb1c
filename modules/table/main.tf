# Both tables stream NEW_AND_OLD_IMAGES: aggregate folds each new game into stats, and
# invalidate compares a stats row's old and new image to skip changes the site cannot show.
# The key schemas match src/tatourney_local/tables.py, which the local stack and the tests use;
# tests/terraform checks that the two agree.

resource "aws_dynamodb_table" "games" {
  name         = "${var.name}-games"
  billing_mode = "PAY_PER_REQUEST"
  # One player's games share a partition, so their stream records arrive in order in one shard.
  hash_key  = "player"
  range_key = "game"

  attribute {
    name = "player"
    type = "S"
  }

  attribute {
    name = "game"
    type = "N"
  }

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}

resource "aws_dynamodb_table" "stats" {
  name = "${var.name}-stats"
  # Provisioned on purpose: the whole point is a leaderboard that stays fast and cheap in front
  # of a 1-read-unit table, so no autoscaling either.
  billing_mode   = "PROVISIONED"
  read_capacity  = var.stats_read_capacity
  write_capacity = var.stats_write_capacity
  hash_key       = "player"

  attribute {
    name = "player"
    type = "S"
  }

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}
