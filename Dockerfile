FROM python:3.11-slim
# the Dari/Pashto letter PDF needs Noto fonts (scripts/os-packages); without them it is a 503
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --no-create-home sanad \
    && mkdir /data && chown sanad /data && chmod 700 /data
# not root: a flaw in the service must not own the container. The embedded database, when no
# DATABASE_URL names another, lives in /data, the service user's alone (keep it on a volume).
USER sanad
ENV DATABASE_URL=sqlite:////data/sanad.db
VOLUME /data
EXPOSE 8000
CMD ["sanad", "serve", "--host", "0.0.0.0", "--port", "8000"]
