#!/bin/bash
KAFKA_HEAP_OPTS=-Xmx64m exec /opt/kafka/bin/run-class.sh org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
