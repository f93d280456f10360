//! The OpenAPI document, generated from the route table and the types the
//! handlers take and return, so it cannot drift from the code.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ComponentsBuilder, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
    ResponseBuilder,
};

use super::guard::{Need, Route};

/// A reference to a request or response type, with its schemas.
pub struct SchemaOf {
    name: String,
    list: bool,
    collect: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl SchemaOf {
    pub fn one<T: utoipa::ToSchema>() -> Self {
        Self {
            name: T::name().into_owned(),
            list: false,
            collect: collect::<T>,
        }
    }
    pub fn list<T: utoipa::ToSchema>() -> Self {
        Self {
            list: true,
            ..Self::one::<T>()
        }
    }
    fn reference(&self) -> RefOr<Schema> {
        let r = RefOr::Ref(Ref::from_schema_name(&self.name));
        if self.list {
            RefOr::T(Schema::Array(ArrayBuilder::new().items(r).build()))
        } else {
            r
        }
    }
}

fn collect<T: utoipa::ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable: `invalid_body`, `forbidden`, `not_found`, ...
    pub code: String,
    /// What went wrong and what to do, for a person.
    pub detail: String,
}

pub fn document(routes: &[Route]) -> OpenApi {
    let mut paths = Paths::new();
    let mut schemas = Vec::new();
    collect::<ErrorBody>(&mut schemas);
    let error = |desc: &str| {
        ResponseBuilder::new()
            .description(desc)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                    .build(),
            )
            .build()
    };
    for route in routes {
        let method = match route.method.as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            _ => continue,
        };
        let needs = match route.need {
            Need::SignedIn => "Any signed-in user or token.".to_owned(),
            Need::Grant(g) => format!("Requires the `{g}` permission."),
        };
        let mut ok = ResponseBuilder::new().description("Success");
        if let Some(resp) = &route.response {
            (resp.collect)(&mut schemas);
            ok = ok.content(
                "application/json",
                ContentBuilder::new().schema(Some(resp.reference())).build(),
            );
        }
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .description(Some(needs))
            .tag(route.tag)
            .operation_id(Some(operation_id(route)))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .response("200", ok.build())
            .response("400", error("Malformed request"))
            .response("401", error("Not signed in"))
            .response("403", error("Missing permission"));
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(RefOr::T(Schema::Object(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::Type::String)
                                .build(),
                        )))),
                );
            }
        }
        if let Some(req) = &route.request {
            (req.collect)(&mut schemas);
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(req.reference())).build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        paths.add_path_operation(route.path, vec![method], op.build());
    }
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Frontline API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Customer experience and security response on one frontline. \
                     Errors are `{code, detail}` with the matching status.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

fn operation_id(route: &Route) -> String {
    let path: String = route
        .path
        .trim_start_matches("/api/v1/")
        .replace(['{', '}'], "")
        .replace('/', "_");
    format!("{}_{}", route.method.as_str().to_lowercase(), path)
}
