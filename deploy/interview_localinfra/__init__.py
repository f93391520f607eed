"""Real Apache Kafka and PostgreSQL run as local processes, for tests and development.

Docker is the first choice where a daemon answers; this package is the fallback that needs only
Java 17+ (Kafka jars come from Maven Central) and the Debian ``postgresql`` binaries.
"""

from interview_localinfra._process import MissingToolError, ServiceStartError
from interview_localinfra.kafka import LocalKafka, ensure_kafka_jars
from interview_localinfra.postgres import LocalPostgres, create_database, drop_database
from interview_localinfra.topics import TopicCreationError, TopicMismatchError, ensure_topics

__all__ = [
    "LocalKafka",
    "LocalPostgres",
    "MissingToolError",
    "ServiceStartError",
    "TopicCreationError",
    "TopicMismatchError",
    "create_database",
    "drop_database",
    "ensure_kafka_jars",
    "ensure_topics",
]
