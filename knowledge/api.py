"""REST API of the knowledge app: product search."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action, require
from core.api_schema import ERROR
from knowledge.selectors import SearchMode, search_products


class ProductVariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    sku = serializers.CharField(allow_blank=True)
    price = serializers.CharField(allow_blank=True)
    options = serializers.DictField(child=serializers.CharField())


class ProductImageSerializer(serializers.Serializer):
    url = serializers.CharField()
    alt = serializers.CharField(allow_blank=True)


class ProductNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProductHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    shopify_id = serializers.IntegerField()
    title = serializers.CharField()
    handle = serializers.CharField()
    product_type = serializers.CharField()
    vendor = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    description_text = serializers.CharField()
    status = serializers.CharField()
    variants = ProductVariantSerializer(many=True)
    images = ProductImageSerializer(many=True)
    notes = ProductNoteSerializer(many=True, source="notes.all")
    score = serializers.SerializerMethodField(help_text="Rank score (higher is better).")

    def get_score(self, product) -> float:
        return self.context["scores"].get(product.pk, 0.0)


class ProductSearchApi(APIView):
    """Search the product catalog (titles, descriptions, variants, tags and staff notes).

    `mode=semantic` without the ML extra is a 400 (`semantic_unavailable`); `mode=hybrid` (the
    default) then falls back to lexical and says so: `mode` is what ran, `is_fallback` is true.
    """

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=500)
        mode = serializers.ChoiceField(choices=[m.value for m in SearchMode], default="hybrid")
        limit = serializers.IntegerField(min_value=1, max_value=50, default=10)

    class OutputSerializer(serializers.Serializer):
        query = serializers.CharField()
        requested_mode = serializers.CharField()
        mode = serializers.CharField()
        is_fallback = serializers.BooleanField()
        is_semantic_available = serializers.BooleanField()
        results = ProductHitSerializer(many=True, source="products")

    @extend_schema(
        operation_id="knowledge_search",
        parameters=[InputSerializer],
        responses={200: OutputSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        require(request.user, Action.VIEW_TICKETS)
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        results = search_products(
            query=params.validated_data["q"],
            mode=params.validated_data["mode"],
            limit=params.validated_data["limit"],
        )
        output = self.OutputSerializer(
            {
                "query": params.validated_data["q"],
                "requested_mode": results.requested_mode,
                "mode": results.mode,
                "is_fallback": results.is_fallback,
                "is_semantic_available": results.is_semantic_available,
                "products": results.products,
            },
            context={"scores": results.scores},
        )
        return Response(output.data)
